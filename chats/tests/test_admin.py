"""The chats back office: shared connections (staff), chats and messages read-only
(moderators, the text under a logged grant: test_admin_private_access.py), usage
totals, and who is refused."""

import pytest
from django.contrib.auth.models import Group

from accounts.tests.factories import UserFactory, staff_with_role
from chats.admin import CHAT_RECENT_MESSAGES
from chats.models import Message, ModelConnection, UsageRecord
from chats.private_access import private_content_access_grant
from chats.services import connection_save, message_append_user
from chats.tests.factories import make_chat
from tavern.crypto import secret_decrypt
from tavern.testing.openai_wire_server import OpenAIWireServer

pytestmark = pytest.mark.django_db

CONNECTIONS = "/admin/chats/modelconnection/"
CHATS = "/admin/chats/chat/"
MESSAGES = "/admin/chats/message/"
USAGE = "/admin/chats/usagerecord/"
KEY = "sk-live-0123456789abcdefWXYZ"


@pytest.fixture
def staff():
    return staff_with_role("staff")


@pytest.fixture
def moderator():
    return staff_with_role("moderator")


def _grant(staff, chat):
    return private_content_access_grant(
        staff=staff, chat=chat, reason="Reported for harassment in this chat.", reference="report 41"
    )


def _connection_form(**overrides):
    return {
        "name": "House model",
        "base_url": "https://llm.example.com/v1",
        "model": "house-13b",
        "api_key": KEY,
        "extra_headers": "{}",
        "context_size": "16384",
        "max_reply_tokens": "400",
        "allowed_tiers": ["plus", "pro"],
    } | overrides


def test_roles_hold_the_chats_permissions():
    def codenames(role):
        return set(
            Group.objects.get(name=role)
            .permissions.filter(content_type__app_label="chats")
            .values_list("codename", flat=True)
        )

    assert codenames("moderator") == {"view_chat", "view_message", "view_swipe"}
    assert codenames("staff") == {
        "view_chat",
        "view_message",
        "view_swipe",
        "view_modelconnection",
        "add_modelconnection",
        "change_modelconnection",
        "delete_modelconnection",
        "view_preset",
        "view_usagerecord",
    }


def test_staff_creates_a_shared_connection_with_the_key_encrypted(client, staff):
    client.force_login(staff)

    form = client.get(f"{CONNECTIONS}add/").content.decode()
    response = client.post(f"{CONNECTIONS}add/", _connection_form())

    assert 'type="password" name="api_key"' in form
    assert 'type="checkbox" name="allowed_tiers" value="plus"' in form
    assert response.status_code == 302
    connection = ModelConnection.objects.get()
    assert (connection.owner, connection.is_shared, connection.allowed_tiers) == (None, True, ["plus", "pro"])
    assert connection.api_key_encrypted != KEY
    assert secret_decrypt(connection.api_key_encrypted) == KEY
    assert connection.api_key_hint == "…WXYZ"
    page = client.get(f"{CONNECTIONS}{connection.pk}/change/").content.decode()
    assert KEY not in page
    assert connection.api_key_encrypted not in page
    assert "…WXYZ" in page


def test_a_blank_key_keeps_the_stored_one_and_remove_clears_it(client, staff):
    connection = connection_save(owner=None, connection=None, data=_connection_form(), api_key=KEY)
    client.force_login(staff)

    kept = client.post(
        f"{CONNECTIONS}{connection.pk}/change/", _connection_form(api_key="", model="house-70b")
    )
    connection.refresh_from_db()
    key_after_edit = secret_decrypt(connection.api_key_encrypted)
    removed = client.post(
        f"{CONNECTIONS}{connection.pk}/change/",
        _connection_form(api_key="", model="house-70b", remove_api_key="on"),
    )
    connection.refresh_from_db()

    assert (kept.status_code, removed.status_code) == (302, 302)
    assert key_after_edit == KEY
    assert connection.model == "house-70b"
    assert (connection.api_key_encrypted, connection.api_key_hint) == ("", "")


def test_a_users_own_connection_is_read_only_and_keyless_for_staff(client, staff):
    owner = UserFactory()
    connection = connection_save(
        owner=owner,
        connection=None,
        data={
            "name": "My OpenRouter",
            "base_url": "https://openrouter.ai/api/v1",
            "model": "deepseek/deepseek-chat",
            "extra_headers": {"X-Secret-Token": "hdr-secret-value"},
        },
        api_key=KEY,
    )
    client.force_login(staff)

    listing = client.get(CONNECTIONS).content.decode()
    page = client.get(f"{CONNECTIONS}{connection.pk}/change/")
    change = client.post(f"{CONNECTIONS}{connection.pk}/change/", _connection_form())
    delete = client.get(f"{CONNECTIONS}{connection.pk}/delete/")

    assert "My OpenRouter" in listing
    assert owner.username in listing
    assert page.status_code == 200
    html = page.content.decode()
    assert KEY not in html
    assert "hdr-secret-value" not in html
    assert "X-Secret-Token (values hidden)" in html
    assert 'name="api_key"' not in html
    assert (change.status_code, delete.status_code) == (403, 403)


def test_test_connection_action_records_the_result(client, staff):
    with OpenAIWireServer(api_key=KEY) as server:
        connection = connection_save(
            owner=None,
            connection=None,
            data={"name": "Wire", "base_url": server.base_url, "model": "gpt-4o-mini"},
            api_key=KEY,
        )
        client.force_login(staff)

        response = client.post(
            CONNECTIONS, {"action": "test_connection", "_selected_action": [connection.pk]}
        )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.last_test_ok is True
    assert connection.last_tested_at is not None
    assert connection.last_test_message.startswith("Wire: the model 'gpt-4o-mini' answered in ")
    assert "ok: Wire: the model" in client.get(CONNECTIONS).content.decode()


def test_a_failing_connection_test_is_recorded_as_failed(client, staff):
    with OpenAIWireServer(api_key="sk-the-right-one") as server:
        connection = connection_save(
            owner=None,
            connection=None,
            data={"name": "Wire", "base_url": server.base_url, "model": "gpt-4o-mini"},
            api_key="sk-a-wrong-key-1234",
        )
        client.force_login(staff)

        client.post(CONNECTIONS, {"action": "test_connection", "_selected_action": [connection.pk]})

    connection.refresh_from_db()
    assert connection.last_test_ok is False
    assert connection.last_test_message != ""


def test_moderator_with_access_reads_a_chat_and_cannot_change_it(client, moderator):
    owner = UserFactory()
    chat = make_chat(owner)  # the greeting is message 1
    for number in range(CHAT_RECENT_MESSAGES + 5):
        message_append_user(chat=chat, content=f"Line number {number:03d} of the story.")
    _grant(moderator, chat)
    client.force_login(moderator)

    page = client.get(f"{CHATS}{chat.pk}/change/")
    change = client.post(f"{CHATS}{chat.pk}/change/", {"title": "Renamed by a moderator"})

    assert page.status_code == 200
    html = page.content.decode()
    assert chat.title in html
    assert "Line number 024 of the story." in html
    assert "Line number 005 of the story." in html
    assert "Line number 004 of the story." not in html  # older than the latest 20
    assert f"{MESSAGES}?chat={chat.pk}" in html
    assert 'name="_save"' not in html
    assert change.status_code == 403
    chat.refresh_from_db()
    assert chat.title != "Renamed by a moderator"


def test_chat_page_queries_do_not_grow_with_messages(client, moderator, django_assert_num_queries):
    chat = make_chat(UserFactory())
    Message.objects.bulk_create(
        Message(chat=chat, position=position, author="user", name="Bo", content=f"m{position}")
        for position in range(2, 502)
    )
    _grant(moderator, chat)
    client.force_login(moderator)
    client.get(f"{CHATS}{chat.pk}/change/")  # warm the content-type cache

    # session, user, user and group permissions, the moderator's grant on the chat,
    # the chat (owner, persona, connection, preset and branch joined), its
    # participants, the latest messages
    with django_assert_num_queries(8):
        response = client.get(f"{CHATS}{chat.pk}/change/")

    assert response.status_code == 200


def test_message_list_filtered_to_one_chat(client, moderator):
    owner = UserFactory()
    chat, other = make_chat(owner), make_chat(owner)
    message_append_user(chat=chat, content="Only in the first chat.")
    message_append_user(chat=other, content="Only in the second chat.")
    _grant(moderator, chat)
    _grant(moderator, other)
    client.force_login(moderator)

    response = client.get(MESSAGES, {"chat": chat.pk})
    found = client.get(MESSAGES, {"chat": other.pk, "q": "second chat"})
    not_found = client.get(MESSAGES, {"chat": chat.pk, "q": "second chat"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Only in the first chat." in html
    assert "Only in the second chat." not in html
    assert "Only in the second chat." in found.content.decode()
    assert "Only in the second chat." not in not_found.content.decode()


def test_usage_changelist_shows_totals_of_the_filtered_records(client, staff):
    user = UserFactory()
    UsageRecord.objects.bulk_create(
        [
            UsageRecord(user=user, model="gpt-4o-mini", tokens_in=1000, tokens_out=200, cost_micro_usd=270),
            UsageRecord(user=user, model="gpt-4o-mini", tokens_in=3000, tokens_out=800, cost_micro_usd=930),
            UsageRecord(
                user=user,
                model="house-13b",
                tokens_in=500,
                tokens_out=50,
                cost_micro_usd=1_250_000,
                kind="summary",
            ),
        ]
    )
    client.force_login(staff)

    everything = client.get(USAGE).content.decode()
    chat_only = client.get(USAGE, {"kind": "chat"}).content.decode()

    assert (
        "<td>3</td>\n          <td>4500</td>\n          <td>1050</td>\n          <td>$1.251200</td>"
        in everything
    )
    assert (
        "<td>2</td>\n          <td>4000</td>\n          <td>1000</td>\n          <td>$0.001200</td>"
        in chat_only
    )
    assert "$1.250000" in everything  # a row's own cost


@pytest.mark.parametrize(
    "path",
    [CONNECTIONS, CHATS, MESSAGES, USAGE, "/admin/chats/preset/", "/admin/chats/swipe/"],
    ids=["connections", "chats", "messages", "usage", "presets", "swipes"],
)
def test_staff_without_a_role_is_refused(client, path):
    client.force_login(UserFactory(is_staff=True))

    response = client.get(path)

    assert response.status_code == 403


@pytest.mark.parametrize(
    "path",
    [CONNECTIONS, USAGE, "/admin/chats/preset/"],
    ids=["connections", "usage", "presets"],
)
def test_moderator_is_refused_staff_pages(client, moderator, path):
    client.force_login(moderator)

    response = client.get(path)

    assert response.status_code == 403


def test_staff_reads_presets_but_cannot_add_them(client, staff):
    from chats.services import preset_save

    preset = preset_save(
        owner=UserFactory(), preset=None, data={"name": "Warm and wordy", "temperature": 1.1}
    )
    client.force_login(staff)

    page = client.get(f"/admin/chats/preset/{preset.pk}/change/")
    add = client.get("/admin/chats/preset/add/")

    assert page.status_code == 200
    assert "Warm and wordy" in page.content.decode()
    assert add.status_code == 403
