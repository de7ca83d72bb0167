"""Staff-shared connections as users see them (M4): a label and the model, never where
they point, their headers or their key hint, on the API, the page and the connection
test."""

import pytest
from django.test import Client
from django.urls import reverse

from chats.services import connection_save
from tavern.testing.openai_wire_server import OpenAIWireServer

pytestmark = pytest.mark.django_db

SECRET_HEADER = "x-internal-token"
SECRET_VALUE = "internal-8c1f2a"


def _shared(base_url: str = "http://10.20.30.40:8080/v1"):
    return connection_save(
        owner=None,
        connection=None,
        data={
            "name": "House model",
            "base_url": base_url,
            "model": "house-13b",
            "allowed_tiers": ["free"],
            "extra_headers": {SECRET_HEADER: SECRET_VALUE},
        },
        api_key="sk-house-1234567890",
    )


def test_the_list_shows_a_shared_connection_as_a_label_and_a_model(user_client):
    shared = _shared()

    response = user_client.get(reverse("api:connections"))

    assert response.json() == [
        {"id": shared.pk, "name": "House model", "model": "house-13b", "is_shared": True}
    ]


def test_the_settings_page_does_not_show_where_a_shared_connection_points(user):
    _shared()
    client = Client()
    client.force_login(user)

    page = client.get(reverse("chats:connections")).content.decode()

    assert "House model" in page
    assert ("10.20.30.40" in page, SECRET_VALUE in page, "…7890" in page) == (False, False, False)


def test_testing_a_shared_connection_says_whether_it_answers_and_nothing_more(user_client):
    with OpenAIWireServer() as server:
        answering = _shared(server.base_url)
        ok = user_client.post(reverse("api:connection_test", args=[answering.pk])).json()
    down = user_client.post(reverse("api:connection_test", args=[_shared("http://127.0.0.1:9/v1").pk])).json()

    assert (ok["ok"], ok["message"], ok["models"]) == (True, "House model answered.", [])
    assert (down["ok"], down["message"]) == (False, "House model is not answering right now.")
    answering.refresh_from_db()
    assert answering.last_tested_at is None  # a user's test is not the staff's record
