"""HTTP through Django behind a request-body limit per endpoint; WebSockets through
Channels with session or token auth."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tavern.settings.local")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.socket_auth import BrowserOriginValidator, auth_middleware_stack  # noqa: E402
from tavern.request_body_limit import RequestBodyLimitMiddleware  # noqa: E402
from tavern.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimitMiddleware(django_asgi_app),
        "websocket": BrowserOriginValidator(auth_middleware_stack(URLRouter(websocket_urlpatterns))),
    }
)
