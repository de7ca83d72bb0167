"""Load the demo data, idempotently: every app with a `demo` module contributes,
in INSTALLED_APPS order (accounts first, so later apps find the demo user)."""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create the demo users and demo content (safe to run again)."

    def handle(self, *args: object, **options: object) -> None:
        for app_config in apps.get_app_configs():
            module_name = f"{app_config.name}.demo"
            if find_spec(module_name) is None:
                continue
            with transaction.atomic():
                lines = import_module(module_name).demo_seed()
            for line in lines:
                self.stdout.write(f"  {app_config.label}: {line}")
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
