"""CORS for API clients on other origins, set by CORS_ALLOWED_ORIGINS: none by default,
only the API and /v1, and never with cookies."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"


def _preflight(client, path: str, origin: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


def test_no_origin_is_allowed_by_default(client):
    response = _preflight(client, reverse("api:me"), APP)

    assert "access-control-allow-origin" not in response.headers


def test_a_configured_origin_may_call_the_api_with_a_token_not_cookies(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]

    allowed = _preflight(client, reverse("api:me"), APP)
    other = _preflight(client, reverse("api:me"), "https://evil.example")
    page = _preflight(client, reverse("home"), APP)

    assert allowed.headers["access-control-allow-origin"] == APP
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in allowed.headers
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in page.headers
