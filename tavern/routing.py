from django.urls import path

from tavern.realtime.consumers import UserEventsConsumer

websocket_urlpatterns = [
    path("ws/notifications/", UserEventsConsumer.as_asgi()),
]
