"""Model connections over the REST API: the API key is stored encrypted and never sent
back, not even in part of a body other than its four-character hint."""

import pytest
from django.urls import reverse

from chats.models import ModelConnection
from tavern.crypto import secret_decrypt
from tavern.testing.openai_wire_server import OpenAIWireServer

pytestmark = pytest.mark.django_db

KEY = "sk-live-7f3a9c2e5b1d4680"


def _create(user_client, **extra):
    return user_client.post(
        reverse("api:connections"),
        {
            "name": "Local",
            "base_url": "http://127.0.0.1:9/v1",
            "model": "test-model",
            "api_key": KEY,
            **extra,
        },
        format="json",
    )


def test_create_stores_the_key_encrypted_and_answers_without_it(user_client):
    response = _create(user_client)

    assert response.status_code == 201
    assert KEY not in response.content.decode()
    assert (response.json()["has_api_key"], response.json()["api_key_hint"]) == (True, "…4680")
    stored = ModelConnection.objects.get(pk=response.json()["id"])
    assert KEY not in stored.api_key_encrypted
    assert secret_decrypt(stored.api_key_encrypted) == KEY


def test_no_answer_ever_carries_the_key(user, user_client):
    created = _create(user_client)
    url = reverse("api:connection", args=[created.json()["id"]])

    bodies = [
        created.content,
        user_client.get(reverse("api:connections")).content,
        user_client.patch(url, {"name": "Renamed"}, format="json").content,
        user_client.get(reverse("api:chats")).content,
    ]

    assert [KEY.encode() in body for body in bodies] == [False, False, False, False]


def test_list_shows_mine_and_the_shared_ones_my_tier_may_use(user, user_client, other_user):
    from chats.services import connection_save

    mine = _create(user_client).json()["id"]
    connection_save(
        owner=other_user,
        connection=None,
        data={"name": "Theirs", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
    )
    shared = connection_save(
        owner=None,
        connection=None,
        data={"name": "House", "base_url": "http://127.0.0.1:9/v1", "model": "m", "allowed_tiers": ["free"]},
    )
    connection_save(
        owner=None,
        connection=None,
        data={"name": "Premium", "base_url": "http://127.0.0.1:9/v1", "model": "m", "allowed_tiers": ["pro"]},
    )

    response = user_client.get(reverse("api:connections"))

    assert [(c["id"], c["is_shared"]) for c in response.json()] == [(mine, False), (shared.pk, True)]


@pytest.mark.parametrize(
    ("change", "stored_key"),
    [({"name": "Renamed"}, KEY), ({"api_key": "sk-new-key-0000"}, "sk-new-key-0000"), ({"api_key": ""}, "")],
    ids=["without a key keeps it", "a new key replaces it", "an empty key removes it"],
)
def test_update(user_client, change, stored_key):
    created = _create(user_client).json()

    response = user_client.patch(reverse("api:connection", args=[created["id"]]), change, format="json")

    assert response.status_code == 200
    assert KEY not in response.content.decode()
    stored = ModelConnection.objects.get(pk=created["id"])
    assert secret_decrypt(stored.api_key_encrypted) == stored_key


def test_delete(user_client):
    created = _create(user_client).json()

    response = user_client.delete(reverse("api:connection", args=[created["id"]]))

    assert response.status_code == 204
    assert ModelConnection.objects.filter(pk=created["id"]).exists() is False


def test_a_base_url_that_is_not_a_url_names_the_field(user_client):
    response = _create(user_client, base_url="not a url")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["base_url"]
    assert ModelConnection.objects.count() == 0


def test_the_connection_test_asks_the_server_and_records_the_result(user_client):
    with OpenAIWireServer(api_key=KEY) as server:
        created = _create(user_client, base_url=server.base_url).json()

        response = user_client.post(reverse("api:connection_test", args=[created["id"]]))

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert KEY not in response.content.decode()
    stored = ModelConnection.objects.get(pk=created["id"])
    assert (stored.last_test_ok, stored.last_tested_at is not None) == (True, True)


def test_testing_a_shared_connection_says_whether_it_answers_not_where_it_is(user, user_client):
    """A user may test a shared connection their tier uses; its address (an internal proxy,
    a URL with a token in it) and its key stay with staff, in the answer and in what is stored."""
    from chats.services import connection_save

    shared = connection_save(
        owner=None,
        connection=None,
        data={
            "name": "House",
            "base_url": "http://127.0.0.1:9/internal-proxy/v1",
            "model": "m",
            "allowed_tiers": ["free"],
        },
        api_key=KEY,
    )

    response = user_client.post(reverse("api:connection_test", args=[shared.pk]))

    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "latency_ms": None,
        "message": "House is not answering right now.",
        "models": [],
    }
    shared.refresh_from_db()
    assert (shared.last_tested_at, shared.last_test_message) == (None, "")
