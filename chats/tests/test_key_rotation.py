import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from chats.models import ModelConnection
from chats.services import connection_save
from tavern import crypto

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys(settings):
    def use(*values):
        settings.FIELD_ENCRYPTION_KEYS = list(values)
        crypto._fernet.cache_clear()

    yield use
    crypto._fernet.cache_clear()


def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_go(user, keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    connection = connection_save(
        owner=user,
        connection=None,
        data={"name": "A", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        api_key="sk-secret-value",
    )
    keys(new, old)

    out = io.StringIO()
    call_command("rotate_field_keys", stdout=out)
    keys(new)

    stored = ModelConnection.objects.get(pk=connection.pk).api_key_encrypted
    assert "Re-encrypted 1 key(s)" in out.getvalue()
    assert crypto.secret_decrypt(stored) == "sk-secret-value"


def test_a_secret_no_configured_key_opens_is_a_clear_error(user, keys):
    keys(Fernet.generate_key().decode())
    token = crypto.secret_encrypt("sk-x")
    keys(Fernet.generate_key().decode())

    with pytest.raises(crypto.DecryptionError, match="cannot be decrypted"):
        crypto.secret_decrypt(token)
