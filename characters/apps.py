from django.apps import AppConfig


class CharactersConfig(AppConfig):
    name = "characters"
    verbose_name = "Characters, lorebooks and personas"

    def ready(self) -> None:
        from characters import imports  # noqa: F401 - registers the import job kinds
