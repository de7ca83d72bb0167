"""Without Redis, what does not need it keeps working (M5): signing in (form and API),
the API, pages; throttles and caches fail open; /readyz says Redis is down."""

import pytest
from django.urls import reverse

from accounts.services import user_password_changed, user_set_active
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


def test_a_ban_and_a_new_password_work(user, redis_gone, django_capture_on_commit_callbacks):
    """Closing the user's sockets is the live view's part: without Redis it is skipped."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user_password_changed(user=user, revoke_api_keys=True)
        user_set_active(user=user, active=False)

    user.refresh_from_db()
    assert (len(callbacks), user.is_active) == (2, False)
