"""Re-encrypt every stored provider API key with the newest FIELD_ENCRYPTION_KEYS key.

Rotation: put a new Fernet key first in FIELD_ENCRYPTION_KEYS (keep the old ones after
it), deploy, run this command, then drop the old keys."""

from django.core.management.base import BaseCommand
from django.db import transaction

from chats.models import ModelConnection
from tavern.crypto import secret_rotate


class Command(BaseCommand):
    help = "Re-encrypt stored provider API keys with the first FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: object, **options: object) -> None:
        rotated = 0
        with transaction.atomic():
            for connection in ModelConnection.objects.select_for_update().exclude(api_key_encrypted=""):
                connection.api_key_encrypted = secret_rotate(connection.api_key_encrypted)
                connection.save(update_fields=["api_key_encrypted"])
                rotated += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {rotated} key(s) with the newest key."))
