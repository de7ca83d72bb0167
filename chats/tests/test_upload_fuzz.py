"""Whatever a chat or preset file holds, importing it is never a server error, on the
API and on the pages (hypothesis; bounded and seeded)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from chats.sillytavern_jsonl import chat_export_jsonl
from chats.tests.factories import make_chat
from tavern.testing.fuzz import UPLOAD_FUZZ, json_values, upload_bytes

pytestmark = pytest.mark.django_db

PRESET_JSON = json.dumps(
    {
        "temperature": 0.9,
        "top_p": 0.95,
        "openai_max_tokens": 300,
        "prompts": [{"identifier": "main", "content": "x"}],
    }
).encode()


@pytest.fixture
def chat_file(user) -> bytes:
    return chat_export_jsonl(chat=make_chat(user))


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _jsonl_lines() -> st.SearchStrategy[bytes]:
    return st.lists(json_values(max_leaves=10), max_size=6).map(
        lambda lines: "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode(
            "utf-8", "surrogatepass"
        )
    )


@UPLOAD_FUZZ
@given(data=st.data())
def test_chat_import_api(user_client, chat_file, data):
    content = data.draw(upload_bytes(chat_file) | _jsonl_lines())

    response = user_client.post(
        reverse("api:chat_import"), {"file": _file("chat.jsonl", content)}, format="multipart"
    )

    assert response.status_code in (201, 202, 400), response.content[:300]


@UPLOAD_FUZZ
@given(data=st.data())
def test_chat_import_page(user, chat_file, data):
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("chats:import"), {"file": _file("chat.jsonl", data.draw(upload_bytes(chat_file)))}
    )

    assert response.status_code in (200, 302)


@UPLOAD_FUZZ
@given(content=upload_bytes(PRESET_JSON) | json_values().map(lambda v: json.dumps(v).encode()))
def test_preset_import_api(user_client, content):
    response = user_client.post(
        reverse("api:preset_import"), {"file": _file("preset.json", content)}, format="multipart"
    )

    assert response.status_code in (201, 400), response.content[:300]


@UPLOAD_FUZZ
@given(content=upload_bytes(PRESET_JSON))
def test_preset_import_page(user, content):
    client = Client()
    client.force_login(user)

    response = client.post(reverse("chats:presets"), {"file": _file("preset.json", content)})

    assert response.status_code in (200, 302)
