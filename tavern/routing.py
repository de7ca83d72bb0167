from django.urls import path

from chats.consumers import ChatConsumer
from tavern.realtime.consumers import UserEventsConsumer

websocket_urlpatterns = [
    path("ws/notifications/", UserEventsConsumer.as_asgi()),
    path("ws/chats/<int:chat_id>/", ChatConsumer.as_asgi()),
]
