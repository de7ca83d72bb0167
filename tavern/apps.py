from django.apps import AppConfig


class TavernConfig(AppConfig):
    name = "tavern"
    verbose_name = "Tavern platform"
