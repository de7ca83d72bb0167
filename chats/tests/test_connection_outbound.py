"""A model connection's base URL may not lead into this server's own network: refused
when it is saved (REST API, settings page, back office) with a 400 that names
base_url, and again when it is used, whatever was stored."""

import socket

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.tests.factories import UserFactory
from chats.models import ModelConnection
from chats.services import connection_save
from tavern.testing.openai_wire_server import OpenAIWireServer

pytestmark = pytest.mark.django_db

ALLOW_HINT = "an operator can allow local model servers with OUTBOUND_ALLOW_PRIVATE_NETWORKS"
LOOPBACK_REFUSED = f"127.0.0.1 is a private or local address (loopback); {ALLOW_HINT}."
# What this machine's resolver answers first for localhost: 127.0.0.1, or ::1 on some.
LOCALHOST = socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)[0][4][0]
METADATA_REFUSED = "169.254.169.254 is a cloud metadata address, which this server never connects to."


@pytest.fixture
def production_policy(settings):
    """The policy of a production server: nothing local, nothing listed."""
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    settings.OUTBOUND_ALLOWED_HOSTS = []
    return settings


@pytest.fixture
def wire_server():
    with OpenAIWireServer() as server:
        yield server


def _create(user_client, base_url: str):
    return user_client.post(
        reverse("api:connections"),
        {"name": "Probe", "base_url": base_url, "model": "m", "api_key": "sk-x"},
        format="json",
    )


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("http://127.0.0.1:22/v1", LOOPBACK_REFUSED),
        ("http://10.0.0.5:8000/v1", f"10.0.0.5 is a private or local address (private); {ALLOW_HINT}."),
        ("http://169.254.169.254/latest/meta-data", METADATA_REFUSED),
        ("http://[::1]:11434/v1", f"::1 is a private or local address (loopback); {ALLOW_HINT}."),
        (
            "http://localhost:11434/v1",
            f"localhost ({LOCALHOST}) is a private or local address (loopback); {ALLOW_HINT}.",
        ),
        (
            "http://metadata.google.internal/computeMetadata/v1",
            "metadata.google.internal is a cloud metadata host, which this server never connects to.",
        ),
    ],
    ids=[
        "loopback",
        "private network",
        "cloud metadata",
        "IPv6 loopback",
        "a name for loopback",
        "metadata name",
    ],
)
def test_creating_a_connection_to_a_refused_address_is_a_400_naming_base_url(
    production_policy, user_client, base_url, message
):
    response = _create(user_client, base_url)

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": f"base_url: {message}",
        "fields": {"base_url": [message]},
    }
    assert ModelConnection.objects.count() == 0


def test_changing_the_url_to_a_refused_address_keeps_the_stored_one(production_policy, user_client):
    created = _create(user_client, "https://llm.example.com/v1").json()

    response = user_client.patch(
        reverse("api:connection", args=[created["id"]]), {"base_url": "http://127.0.0.1:6379/"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"base_url": [LOOPBACK_REFUSED]}
    assert ModelConnection.objects.get(pk=created["id"]).base_url == "https://llm.example.com/v1"


def test_a_self_hoster_who_allows_private_networks_saves_a_local_server_but_never_the_metadata_service(
    production_policy, user_client
):
    production_policy.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True

    local = _create(user_client, "http://127.0.0.1:11434/v1")
    metadata = _create(user_client, "http://169.254.169.254/latest/meta-data")

    assert (local.status_code, metadata.status_code) == (201, 400)
    assert metadata.json()["error"]["fields"] == {"base_url": [METADATA_REFUSED]}


@pytest.mark.parametrize(
    ("debug", "status"), [(True, 201), (False, 400)], ids=["make run (DEBUG)", "no DEBUG"]
)
def test_unset_the_setting_allows_local_servers_only_in_debug(production_policy, user_client, debug, status):
    production_policy.OUTBOUND_ALLOW_PRIVATE_NETWORKS = None
    production_policy.DEBUG = debug

    response = _create(user_client, "http://127.0.0.1:5001/v1")

    assert response.status_code == status


def test_an_allowed_host_is_saved_and_answers_the_test(production_policy, user_client, wire_server):
    production_policy.OUTBOUND_ALLOWED_HOSTS = ["localhost"]
    created = _create(user_client, f"http://localhost:{wire_server.port}/v1")

    response = user_client.post(reverse("api:connection_test", args=[created.json()["id"]]))

    assert created.status_code == 201
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert len(wire_server.requests) == 2  # the model list, then one token


def test_a_stored_url_that_is_now_refused_fails_its_test_without_a_request(
    user, user_client, wire_server, settings
):
    # Saved while loopback was allowed (a name that resolved elsewhere, a policy since tightened).
    connection = connection_save(
        owner=user, connection=None, data={"name": "Wire", "base_url": wire_server.base_url, "model": "m"}
    )
    settings.OUTBOUND_ALLOWED_HOSTS = []

    response = user_client.post(reverse("api:connection_test", args=[connection.pk]))

    message = (
        f"Wire: this server does not connect to {wire_server.base_url}: "
        f"127.0.0.1 is a private or local address (loopback); {ALLOW_HINT}"
    )
    assert response.status_code == 200
    assert response.json() == {"ok": False, "latency_ms": None, "message": message, "models": []}
    assert wire_server.requests == []
    connection.refresh_from_db()
    assert (connection.last_test_ok, connection.last_test_message) == (False, message)


def test_a_web_page_where_the_model_list_should_be_is_a_result_not_a_500(user, user_client, wire_server):
    connection = connection_save(
        owner=user, connection=None, data={"name": "Wire", "base_url": wire_server.base_url, "model": "m"}
    )
    wire_server.script_models_page("<html><body>Sign in to continue</body></html>")

    response = user_client.post(reverse("api:connection_test", args=[connection.pk]))

    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert response.json()["message"] == (
        f"Wire: {wire_server.base_url}/models answered a web page, not a model list; "
        "check the base URL (an OpenAI-compatible API's usually ends in /v1)"
    )


def test_the_settings_page_refuses_a_local_address_under_the_field(production_policy, client, user):
    client.force_login(user)

    response = client.post(
        reverse("chats:connection_new"),
        {
            "name": "Local Kobold",
            "base_url": "http://127.0.0.1:5001/v1",
            "model": "mistral-7b",
            "context_size": "8192",
            "max_reply_tokens": "400",
            "extra_headers": "",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"base_url": [LOOPBACK_REFUSED]}
    assert ModelConnection.objects.count() == 0


def test_the_back_office_refuses_a_shared_connection_to_the_metadata_service(production_policy, client):
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="staff"))
    client.force_login(staff)

    response = client.post(
        "/admin/chats/modelconnection/add/",
        {
            "name": "House model",
            "base_url": "http://169.254.169.254/v1",
            "model": "house-13b",
            "api_key": "sk-x",
            "extra_headers": "{}",
            "context_size": "16384",
            "max_reply_tokens": "400",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"base_url": [METADATA_REFUSED]}
    assert ModelConnection.objects.count() == 0
