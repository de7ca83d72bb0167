"""Without Redis, what does not need it keeps working (M5): signing in (form and API),
the API, pages; throttles and caches fail open; /readyz says Redis is down."""

import pytest
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

GONE = "unix:///nonexistent/tavern-redis-gone.sock"


@pytest.fixture
def redis_gone(settings):
    settings.REDIS_URL = GONE
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": GONE}}


def test_signing_in_through_the_api_works(api_client, user, redis_gone):
    response = api_client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200


def test_the_sign_in_form_works(client, user, redis_gone):
    response = client.post(reverse("account_login"), {"login": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("name", ["api:me", "api:characters", "api:chats", "api:lorebooks"])
def test_api_reads_work(user_client, redis_gone, name):
    assert user_client.get(reverse(name)).status_code == 200


def test_pages_work(client, user, redis_gone):
    client.force_login(user)

    assert [
        client.get(reverse(name)).status_code for name in ("home", "characters:browse", "chats:list")
    ] == [
        200,
        200,
        200,
    ]


def test_readyz_says_redis_is_down(client, redis_gone):
    response = client.get(reverse("readyz"))

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True
