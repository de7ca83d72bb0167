"""A SillyTavern preset file gets the editor's ranges on every way in (API, page): a
setting out of range is refused naming the `file`, and no preset is stored."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chats.models import Preset

pytestmark = pytest.mark.django_db

REFUSED = [
    ({"temperature": 9}, "temperature must be between 0 and 5 (got 9)."),
    ({"rep_pen": 12}, "repetition_penalty must be between 0 and 10 (got 12)."),
    ({"openai_max_tokens": 10**12}, "max_tokens must be between 1 and 200,000 (got 1,000,000,000,000)."),
    ({"stopping_strings": [f"stop {n}" for n in range(17)]}, "A preset has at most 16 stop strings."),
    ({"stopping_strings": ["s" * 1001]}, "A stop string is at most 1,000 characters."),
]
REFUSED_IDS = [
    "temperature",
    "repetition penalty",
    "max tokens",
    "too many stop strings",
    "a stop string too long",
]


def _upload(preset: dict) -> SimpleUploadedFile:
    return SimpleUploadedFile("Wild.json", json.dumps(preset).encode(), content_type="application/json")


@pytest.mark.parametrize(("preset", "problem"), REFUSED, ids=REFUSED_IDS)
def test_the_api_refuses_naming_the_file(user_client, preset, problem):
    response = user_client.post(reverse("api:preset_import"), {"file": _upload(preset)}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid", "message": problem, "fields": {"file": [problem]}}
    }
    assert Preset.objects.count() == 0


@pytest.mark.parametrize(("preset", "problem"), REFUSED[:1], ids=REFUSED_IDS[:1])
def test_the_page_refuses_naming_the_file(client, user, preset, problem):
    client.force_login(user)

    response = client.post(reverse("chats:presets"), {"file": _upload(preset)})

    assert response.status_code == 200
    assert response.context["import_form"].errors == {"file": [problem]}
    assert Preset.objects.count() == 0


def test_the_api_refuses_a_file_over_one_megabyte_before_reading_it(user_client):
    big = {"temperature": 0.7, "notes": "n" * (1024 * 1024)}

    response = user_client.post(reverse("api:preset_import"), {"file": _upload(big)}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["A preset file is at most 1 MB."]}
    assert Preset.objects.count() == 0


def test_the_editor_api_has_the_same_ranges(user_client):
    response = user_client.post(
        reverse("api:presets"), {"name": "Loud", "repetition_penalty": 12}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "repetition_penalty": ["Ensure this value is less than or equal to 10."]
    }
    assert Preset.objects.count() == 0
