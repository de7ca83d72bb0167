from django.apps import AppConfig


class TavernConfig(AppConfig):
    name = "tavern"
    verbose_name = "Tavern platform"

    def ready(self) -> None:
        from tavern.api import schema  # noqa: F401 - registers OpenAPI extensions
