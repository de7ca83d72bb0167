"""The prompt inspector: what the next reply would be sent, and a report of what went in."""

import pytest
from django.urls import reverse

from characters.services import persona_save
from chats.services import message_append_user
from chats.tests.factories import make_chat

pytestmark = pytest.mark.django_db

SYSTEM = (
    "Write Mira the Cartographer's next reply in a fictional chat between Mira the Cartographer and Ash. "
    "Stay in character, be creative, and never speak or act for Ash.\n\n"
    "[Ash's persona: A courier with a bad knee.]\n\n"
    "A wandering mapmaker who charts forgotten coasts and trades stories for ink.\n"
    "Mira the Cartographer's personality: curious, patient, dry humour\n\n"
    "Scenario: A rainy harbour tavern at dusk.\n\n"
    "[Example chat]\n"
    "Ash: Where are we?\n"
    "Mira the Cartographer: Somewhere the maps forgot."
)
GREETING = "*Mira unrolls a damp map.* You look like someone who has seen the northern cliffs."


def test_preview_shows_the_messages_and_the_sections(user, user_client):
    persona_save(owner=user, persona=None, data={"name": "Ash", "description": "A courier with a bad knee."})
    chat = make_chat(user)
    message_append_user(chat=chat, content="Only the southern ones.")
    chat.author_note = "Mira is tired."
    chat.author_note_depth = 1
    chat.save(update_fields=["author_note", "author_note_depth"])

    response = user_client.get(reverse("api:chat_prompt_preview", args=[chat.pk]))

    assert response.status_code == 200
    body = response.json()
    assert body["speaker"]["name"] == "Mira the Cartographer"
    assert body["connection"] == "Offline demo"
    assert body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "assistant", "content": GREETING},
        {"role": "system", "content": "Mira is tired."},
        {"role": "user", "content": "Only the southern ones."},
    ]
    report = body["report"]
    assert [(s["name"], s["included"]) for s in report["sections"]] == [
        ("system prompt", True),
        ("persona", True),
        ("character: Mira the Cartographer", True),
        ("scenario", True),
        ("example dialogue", True),
        ("author's note", True),
        ("chat history", True),
    ]
    assert (report["budget"], report["history_included"], report["history_left_out"]) == (8192 - 300, 2, 0)
    assert report["used"] == sum(s["tokens"] for s in report["sections"])
