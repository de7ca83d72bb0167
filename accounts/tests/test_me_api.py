import datetime

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_me_returns_the_callers_profile(user_client, user):
    response = user_client.get(reverse("api:me"))

    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert response.json()["subscription_tier"] == "free"
    assert response.json()["content_filter"] == "moderate"
    assert "password" not in response.json()


def test_me_refuses_anonymous_callers_in_the_error_shape(api_client):
    response = api_client.get(reverse("api:me"))

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided."}
    }


def test_a_minor_cannot_turn_on_nsfw(user_client, user):
    fifteen = datetime.date.today().replace(year=datetime.date.today().year - 15)

    response = user_client.patch(reverse("api:me"), {"birth_date": fifteen.isoformat(), "show_nsfw": True})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["show_nsfw"]
    user.refresh_from_db()
    assert user.show_nsfw is False
    assert user.birth_date is None


def test_an_adult_opting_in_sees_nsfw_only_with_a_mild_filter(user_client):
    response = user_client.patch(
        reverse("api:me"), {"birth_date": "1990-01-01", "show_nsfw": True, "content_filter": "mild"}
    )
    strict = user_client.patch(reverse("api:me"), {"content_filter": "strict"})

    assert response.json()["sees_nsfw"] is True
    assert strict.json()["sees_nsfw"] is False


def test_an_unknown_content_filter_names_the_field(user_client):
    response = user_client.patch(reverse("api:me"), {"content_filter": "extreme"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"content_filter": ['"extreme" is not a valid choice.']}
