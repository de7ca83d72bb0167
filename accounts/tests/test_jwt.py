import pytest
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("login", ["username", "email"], ids=["by-username", "by-email"])
def test_obtain_token_pair(api_client, user, login):
    response = api_client.post(
        reverse("api:token_obtain"), {"username": getattr(user, login), "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api_client.get(reverse("api:me")).json()["username"] == user.username


def test_obtain_token_with_wrong_password_is_refused_in_the_error_shape(api_client, user):
    response = api_client.post(reverse("api:token_obtain"), {"username": user.username, "password": "nope"})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "No active account with these credentials.",
            "fields": {"non_field_errors": ["No active account with these credentials."]},
        }
    }


def test_obtain_token_for_banned_user_is_refused(api_client, user):
    user.is_active = False
    user.save()

    response = api_client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 400


def test_refresh_rotates_and_verify_accepts_access(api_client, user):
    pair = api_client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": DEFAULT_PASSWORD}
    ).json()

    refreshed = api_client.post(reverse("api:token_refresh"), {"refresh": pair["refresh"]})
    verified = api_client.post(reverse("api:token_verify"), {"token": refreshed.json()["access"]})
    reused = api_client.post(reverse("api:token_refresh"), {"refresh": pair["refresh"]})

    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access", "refresh"}
    assert verified.status_code == 200
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_not_valid"


def test_logout_blacklists_the_refresh_token(api_client, user):
    pair = api_client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": DEFAULT_PASSWORD}
    ).json()

    logout = api_client.post(reverse("api:logout"), {"refresh": pair["refresh"]})
    refresh = api_client.post(reverse("api:token_refresh"), {"refresh": pair["refresh"]})

    assert logout.status_code == 204
    assert refresh.status_code == 401
    assert refresh.json()["error"]["code"] == "token_not_valid"


def test_logout_with_garbage_token_names_the_field(api_client):
    response = api_client.post(reverse("api:logout"), {"refresh": "garbage"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "token_not_valid"
    assert list(response.json()["error"]["fields"]) == ["refresh"]


def test_verify_rejects_a_tampered_token(api_client, user):
    pair = api_client.post(
        reverse("api:token_obtain"), {"username": user.username, "password": DEFAULT_PASSWORD}
    ).json()

    response = api_client.post(reverse("api:token_verify"), {"token": pair["access"][:-2] + "xx"})

    assert response.status_code == 401
