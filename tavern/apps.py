from django.apps import AppConfig
from django.core import checks

from tavern import http_limits


class TavernConfig(AppConfig):
    name = "tavern"
    verbose_name = "Tavern platform"

    def ready(self) -> None:
        from tavern.api import schema  # noqa: F401 - registers OpenAPI extensions

        checks.register(http_limits.body_limits_check)
