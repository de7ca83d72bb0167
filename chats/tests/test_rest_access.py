"""Every chat endpoint refuses another user's chat, message, connection or preset with a
404 (it looks missing), and changes nothing; lists show none of theirs."""

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from characters.tests.factories import CharacterFactory, card_data
from chats.models import Chat, ChatParticipant, Message, ModelConnection, Preset, Swipe
from chats.services import GenerationRecord, connection_save, preset_save, usage_record
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def theirs(other_user):
    """Another user's chat (with its greeting), connection and preset."""
    chat = make_chat(other_user)
    connection = connection_save(
        owner=other_user,
        connection=None,
        data={"name": "Theirs", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        api_key="sk-theirs-0000",
    )
    preset = preset_save(owner=other_user, preset=None, data={"name": "Theirs", "temperature": 0.7})
    usage_record(
        user=other_user, chat=chat, generation=GenerationRecord(model="m", tokens_in=5, tokens_out=5)
    )
    return {
        "chat": chat.pk,
        "message": Message.objects.get(chat=chat).pk,
        "character": chat.participants.get().character_id,
        "connection": connection.pk,
        "preset": preset.pk,
    }


def _everything() -> list:
    return [
        [model_to_dict(row) for row in model.objects.order_by("pk")]
        for model in (Chat, ChatParticipant, Message, Swipe, ModelConnection, Preset)
    ]


ENDPOINTS = [
    ("get", "api:chat", ("chat",), None),
    ("patch", "api:chat", ("chat",), {"title": "Mine now"}),
    ("delete", "api:chat", ("chat",), None),
    ("post", "api:chat_archive", ("chat",), None),
    ("delete", "api:chat_archive", ("chat",), None),
    ("post", "api:chat_branch", ("chat",), {"message_id": "message"}),
    ("post", "api:chat_stop", ("chat",), None),
    ("get", "api:chat_export", ("chat",), None),
    ("get", "api:chat_prompt_preview", ("chat",), None),
    ("post", "api:chat_participants", ("chat",), {"character_id": "visible character"}),
    ("patch", "api:chat_participant", ("chat", "character"), {"is_muted": True}),
    ("delete", "api:chat_participant", ("chat", "character"), None),
    ("get", "api:chat_messages", ("chat",), None),
    ("post", "api:chat_messages", ("chat",), {"content": "Hello?"}),
    ("patch", "api:chat_message", ("chat", "message"), {"content": "Edited."}),
    ("delete", "api:chat_message", ("chat", "message"), None),
    ("post", "api:chat_message_regenerate", ("chat", "message"), {}),
    ("post", "api:chat_message_continue", ("chat", "message"), {}),
    ("post", "api:chat_message_swipe", ("chat", "message"), {"index": 1}),
    ("patch", "api:connection", ("connection",), {"name": "Mine now"}),
    ("delete", "api:connection", ("connection",), None),
    ("post", "api:connection_test", ("connection",), None),
    ("patch", "api:preset", ("preset",), {"name": "Mine now"}),
    ("delete", "api:preset", ("preset",), None),
]


@pytest.mark.parametrize(
    ("method", "name", "args", "body"),
    ENDPOINTS,
    ids=[f"{method.upper()} {name.removeprefix('api:')}" for method, name, _, _ in ENDPOINTS],
)
def test_another_users_object_is_refused(user, user_client, theirs, method, name, args, body):
    visible = CharacterFactory(owner=user, card=card_data(name="Mine"))
    values = {"message": theirs["message"], "visible character": visible.pk}
    if body is not None:
        body = {
            key: values.get(value, value) if isinstance(value, str) else value for key, value in body.items()
        }
    before = _everything()

    response = getattr(user_client, method)(
        reverse(name, args=[theirs[arg] for arg in args]), body, format="json"
    )

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert _everything() == before


@pytest.mark.parametrize(
    ("name", "items"),
    [("api:chats", "results"), ("api:connections", None), ("api:presets", None), ("api:usage", "days")],
    ids=["chats", "connections", "presets", "usage"],
)
def test_lists_show_none_of_another_users_objects(user_client, theirs, name, items):
    response = user_client.get(reverse(name))

    assert response.status_code == 200
    assert (response.json()[items] if items else response.json()) == []
