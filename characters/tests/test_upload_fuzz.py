"""Whatever a card, world or avatar upload holds, the answer is never a server error:
every import and upload path of characters, on the API and on the pages, fuzzed from
valid files (hypothesis; bounded and seeded)."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given
from PIL import Image

from characters.cards import export_json, export_png, world_to_sillytavern
from characters.tests.factories import card_data, lorebook_value
from tavern.testing.fuzz import UPLOAD_FUZZ, json_values, mutated, upload_bytes

pytestmark = pytest.mark.django_db

CARD_PNG = export_png(card_data(name="Seed"))
CARD_JSON = export_json(card_data(name="Seed"), "v3")
WORLD_JSON = json.dumps(world_to_sillytavern(lorebook_value(entries=2))).encode()


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


AVATAR = _png(8, 12)
NEW_CHARACTER = {"name": "Avatar test", "description": "", "visibility": "private", "language": "en"}


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@UPLOAD_FUZZ
@given(content=upload_bytes(CARD_PNG) | upload_bytes(CARD_JSON))
def test_card_import_api(user_client, content):
    response = user_client.post(
        reverse("api:character_import"), {"file": _file("card.png", content)}, format="multipart"
    )

    assert response.status_code in (201, 202, 400), response.content[:300]


@UPLOAD_FUZZ
@given(content=upload_bytes(CARD_PNG))
def test_card_import_page(user, content):
    response = _client(user).post(reverse("characters:import"), {"files": [_file("card.png", content)]})

    assert response.status_code in (200, 302)


@UPLOAD_FUZZ
@given(content=upload_bytes(WORLD_JSON) | json_values().map(lambda v: json.dumps({"entries": v}).encode()))
def test_world_import_api(user_client, content):
    response = user_client.post(
        reverse("api:lorebook_import"), {"file": _file("world.json", content)}, format="multipart"
    )

    assert response.status_code in (201, 202, 400), response.content[:300]


@UPLOAD_FUZZ
@given(content=upload_bytes(WORLD_JSON))
def test_world_import_page(user, content):
    response = _client(user).post(
        reverse("characters:lorebook_import"), {"file": _file("world.json", content)}
    )

    assert response.status_code in (200, 302)


@UPLOAD_FUZZ
@given(content=mutated(AVATAR) | upload_bytes(AVATAR))
def test_character_avatar_upload_page(user, content):
    response = _client(user).post(
        reverse("characters:create"),
        {**NEW_CHARACTER, "avatar": _file("avatar.png", content)},
    )

    assert response.status_code in (200, 302)
    if response.status_code == 200:  # the form again: only the avatar may be at fault
        assert set(response.context["form"].errors) == {"avatar"}


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # what the test sends
def test_a_decompression_bomb_avatar_is_refused_not_a_server_error(user):
    bomb = _png(12_000, 12_000)  # 144 megapixels: a few KB of PNG, gigabytes decoded

    response = _client(user).post(
        reverse("characters:create"), {**NEW_CHARACTER, "avatar": _file("bomb.png", bomb)}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["avatar"]
