from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"
    verbose_name = "Chats"

    def ready(self) -> None:
        from chats import imports  # noqa: F401 - registers the chat import job kind
