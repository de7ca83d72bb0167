"""Card files through the API: import PNG/JSON/CHARX, export them, and round trips that keep
every card field; bad uploads refused naming `file`, with nothing created."""

import dataclasses
import io
import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from characters.cards import CardData, export_png, parse_card_bytes
from characters.models import Character, Visibility
from characters.records import card_value
from characters.tests.factories import CharacterFactory, card_data, card_png_bytes, lorebook_value

pytestmark = pytest.mark.django_db

# V3-only card fields, which a V2 export leaves out.
V3_ONLY = {
    "nickname": "",
    "group_only_greetings": [],
    "creator_notes_multilingual": {},
    "source": [],
    "creation_date": None,
    "modification_date": None,
    "assets": [],
}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _plain_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "teal").save(out, format="PNG")
    return out.getvalue()


def _broken_image_png() -> bytes:
    """Well-formed chunks (so the card reads) around pixel data no decoder accepts."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 6, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", b"garbage!") + _chunk(b"IEND", b"")


def _rich_card() -> CardData:
    """Every V3 field set, a lorebook included."""
    return card_data(
        nickname="Mimi",
        group_only_greetings=["*Mira nods to the group.*"],
        system_prompt="Stay in character.",
        post_history_instructions="Keep replies short.",
        creator_notes="For tests.",
        creator_notes_multilingual={"fr": "Pour les tests."},
        character_version="2.1",
        source=["https://example.com/mira"],
        creation_date=1700000000,
        modification_date=1700000900,
        extensions={"talkativeness": "0.5", "depth_prompt": {"prompt": "Maps.", "depth": 4}},
        character_book=lorebook_value(entries=3),
        extra={"x_custom": "kept"},
    )


def _upload(client, content: bytes, name: str = "card.png"):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("api:character_import"), {"file": SimpleUploadedFile(name, content)}, format="multipart"
    )


def _export(client, character, **query):  # type: ignore[no-untyped-def]
    return client.get(reverse("api:character_export", args=[character.pk]), query)


# ---------------------------------------------------------------- import


def test_import_a_sillytavern_png(user_client, user):
    response = _upload(user_client, card_png_bytes())

    assert response.status_code == 201
    character = Character.objects.get(pk=response.json()["id"])
    assert character.owner == user
    assert character.visibility == Visibility.PRIVATE
    assert card_value(character) == card_data()
    assert response.json()["avatar"] == character.avatar.url
    assert response.json()["tags"] == ["Fantasy", "Adventure"]
    assert character.versions.get().change_summary == "Imported from card.png (V3)"


def test_import_a_json_card(user_client):
    content = json.dumps({"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Json Jo"}})

    response = _upload(user_client, content.encode(), "jo.json")

    assert response.status_code == 201
    assert response.json()["name"] == "Json Jo"
    assert response.json()["avatar"] is None


@pytest.mark.parametrize(
    "content",
    [
        b"GIF89a this is not a card",
        _plain_png(),
        b'{"spec": "chara_card_v2", "data": {"name": ',
        b'{"spec": "chara_card_v2", "data": "not an object"}',
        export_png(card_data(), _broken_image_png()),
        b"",
    ],
    ids=[
        "not-a-card",
        "png-without-card-chunk",
        "truncated-json",
        "bad-card-json",
        "unreadable-avatar",
        "empty",
    ],
)
def test_a_bad_upload_is_refused_naming_the_file(user_client, content):
    response = _upload(user_client, content)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert len(response.json()["error"]["fields"]["file"]) == 1
    assert Character.objects.count() == 0


@override_settings(CARD_MAX_BYTES=1000)
def test_an_oversize_upload_is_refused_naming_the_file(user_client):
    content = card_png_bytes()
    assert len(content) > 1000

    response = _upload(user_client, content)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "file": ["The file is larger than the limit of 1000\xa0bytes."]
    }
    assert Character.objects.count() == 0


def test_fork_copies_the_avatar(api_client, user, other_user):
    api_client.force_authenticate(other_user)
    original = Character.objects.get(pk=_upload(api_client, card_png_bytes()).json()["id"])
    api_client.patch(reverse("api:character", args=[original.pk]), {"visibility": "public"})
    api_client.force_authenticate(user)

    response = api_client.post(reverse("api:character_fork", args=[original.pk]))

    assert response.status_code == 201
    fork = Character.objects.get(pk=response.json()["id"])
    with original.avatar.open("rb") as first, fork.avatar.open("rb") as second:
        assert first.read() == second.read()
    assert fork.avatar.name != original.avatar.name


def test_import_without_a_file_names_the_field(user_client):
    response = user_client.post(reverse("api:character_import"), {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["No file was submitted."]}


def test_import_needs_a_login(api_client):
    response = _upload(api_client, card_png_bytes())

    assert response.status_code == 401
    assert Character.objects.count() == 0


# ---------------------------------------------------------------- export


def test_export_png_reimports_to_the_same_card(user_client, user):
    original = CharacterFactory(owner=user, card=_rich_card())

    exported = _export(user_client, original, format="png")
    reimported = _upload(user_client, exported.content, "mira.png")

    assert exported.status_code == 200
    assert exported["Content-Type"] == "image/png"
    assert exported["Content-Disposition"] == 'attachment; filename="mira-the-cartographer.png"'
    assert reimported.status_code == 201
    copy = Character.objects.get(pk=reimported.json()["id"])
    assert dataclasses.asdict(card_value(copy)) == dataclasses.asdict(card_value(original))


def test_export_png_keeps_the_avatar(user_client, user):
    imported = Character.objects.get(pk=_upload(user_client, card_png_bytes(), "a.png").json()["id"])

    with imported.avatar.open("rb") as stored:
        avatar = stored.read()

    exported = _export(user_client, imported, format="png")

    assert parse_card_bytes(exported.content, max_bytes=10**7).avatar_png == avatar


@pytest.mark.parametrize("spec", ["v2", "v3"])
def test_export_json_reimports_to_the_same_card(user_client, user, spec):
    original = CharacterFactory(owner=user, card=_rich_card())

    exported = _export(user_client, original, format="json", spec=spec)
    reimported = _upload(user_client, exported.content, "mira.json")

    assert exported.status_code == 200
    assert exported["Content-Type"] == "application/json"
    assert exported["Content-Disposition"] == 'attachment; filename="mira-the-cartographer.json"'
    assert json.loads(exported.content)["spec"] == f"chara_card_{spec}"
    expected = card_value(original)
    if spec == "v2":
        expected = dataclasses.replace(expected, **V3_ONLY)
    copy = Character.objects.get(pk=reimported.json()["id"])
    assert dataclasses.asdict(card_value(copy)) == dataclasses.asdict(expected)


def test_export_charx_reimports_to_the_same_card(user_client, user):
    original = CharacterFactory(owner=user, card=_rich_card())

    exported = _export(user_client, original, format="charx")
    reimported = _upload(user_client, exported.content, "mira.charx")

    assert exported.status_code == 200
    assert exported["Content-Type"] == "application/zip"
    assert exported["Content-Disposition"] == 'attachment; filename="mira-the-cartographer.charx"'
    copy = Character.objects.get(pk=reimported.json()["id"])
    assert dataclasses.asdict(card_value(copy)) == dataclasses.asdict(card_value(original))


def test_export_defaults_to_png(user_client, user):
    character = CharacterFactory(owner=user)

    response = _export(user_client, character)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert parse_card_bytes(response.content, max_bytes=10**7).card == card_data()


@pytest.mark.parametrize(
    ("query", "field"),
    [({"format": "gif"}, "format"), ({"format": "json", "spec": "v9"}, "spec")],
    ids=["bad-format", "bad-spec"],
)
def test_a_bad_export_query_is_refused_naming_the_parameter(user_client, user, query, field):
    character = CharacterFactory(owner=user)

    response = _export(user_client, character, **query)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_anyone_exports_a_public_character(api_client, other_user):
    character = CharacterFactory(owner=other_user, visibility=Visibility.PUBLIC)

    response = _export(api_client, character, format="json")

    assert response.status_code == 200
    assert json.loads(response.content)["data"]["name"] == "Mira the Cartographer"


def test_another_users_private_character_cannot_be_exported(api_client, user, other_user):
    character = CharacterFactory(owner=other_user)
    api_client.force_authenticate(user)

    response = _export(api_client, character, format="json")
    anonymous = _export(api_client.__class__(), character, format="json")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert anonymous.status_code == 404
