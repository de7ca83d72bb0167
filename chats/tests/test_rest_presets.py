"""Sampling presets over the REST API, and SillyTavern preset files imported as presets."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chats.models import Preset

pytestmark = pytest.mark.django_db


def _upload(content: bytes, name: str = "Creative.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


def test_create_list_update_delete(user_client):
    created = user_client.post(
        reverse("api:presets"), {"name": "Calm", "temperature": 0.6, "stop": ["\nUser:"]}, format="json"
    )
    listed = user_client.get(reverse("api:presets"))
    updated = user_client.patch(
        reverse("api:preset", args=[created.json()["id"]]), {"top_p": 0.9}, format="json"
    )
    deleted = user_client.delete(reverse("api:preset", args=[created.json()["id"]]))

    assert [r.status_code for r in (created, listed, updated, deleted)] == [201, 200, 200, 204]
    assert [p["name"] for p in listed.json()] == ["Calm"]
    assert (updated.json()["temperature"], updated.json()["top_p"], updated.json()["stop"]) == (
        0.6,
        0.9,
        ["\nUser:"],
    )
    assert Preset.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [({"name": "Hot", "temperature": 9}, "temperature"), ({"name": "Stops", "stop": "\n"}, "stop")],
    ids=["temperature out of range", "stop that is not a list"],
)
def test_a_bad_value_names_the_field(user_client, data, field):
    response = user_client.post(reverse("api:presets"), data, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_import_reads_a_sillytavern_chat_completion_preset(user_client):
    preset_json = {
        "temperature": 0.9,
        "top_p": 0.95,
        "top_k": 0,
        "openai_max_tokens": 400,
        "seed": -1,
        "stopping_strings": ["\n{{user}}:"],
        "prompts": [{"identifier": "main", "content": "..."}],
    }

    response = user_client.post(
        reverse("api:preset_import"), {"file": _upload(json.dumps(preset_json).encode())}, format="multipart"
    )

    assert response.status_code == 201
    body = response.json()
    assert {
        key: body[key] for key in ("name", "temperature", "top_p", "top_k", "max_tokens", "seed", "stop")
    } == {
        "name": "Creative",
        "temperature": 0.9,
        "top_p": 0.95,
        "top_k": None,
        "max_tokens": 400,
        "seed": None,
        "stop": ["\n{{user}}:"],
    }
    assert Preset.objects.get(pk=body["id"]).source == preset_json


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"{not json",
            "Not a JSON preset: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b"[1, 2]", "A preset is a JSON object."),
        (b'{"temperature": "hot"}', "'temperature' must be a number, got 'hot'"),
    ],
    ids=["not JSON", "not an object", "a value of the wrong type"],
)
def test_import_of_a_bad_file_names_the_file(user_client, content, message):
    response = user_client.post(reverse("api:preset_import"), {"file": _upload(content)}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": [message]}
    assert Preset.objects.count() == 0
