"""Importing several card files at once: each on its own, one bad file stops nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.cards import export_charx, export_json
from characters.models import Character
from characters.tests.factories import card_data, card_png_bytes

pytestmark = pytest.mark.django_db

IMPORT = reverse("characters:import")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_several_files_are_imported_and_a_bad_one_is_reported(client, user):
    client.force_login(user)
    files = [
        _file("mira.png", card_png_bytes(name="Mira")),
        _file("broken.json", b'{"spec": "chara_card_v2", "data": '),
        _file("nia.json", export_json(card_data(name="Nia"))),
        _file("tom.charx", export_charx(card_data(name="Tom"), {}, None)),
    ]

    response = client.post(IMPORT, {"files": files})

    assert response.status_code == 200
    results = response.context["results"]
    assert [(r.filename, r.character.name if r.character else None) for r in results] == [
        ("mira.png", "Mira"),
        ("broken.json", None),
        ("nia.json", "Nia"),
        ("tom.charx", "Tom"),
    ]
    assert results[1].error.startswith("broken.json: ")
    assert sorted(Character.objects.filter(owner=user).values_list("name", flat=True)) == [
        "Mira",
        "Nia",
        "Tom",
    ]
    assert b"broken.json" in response.content
    assert reverse("characters:detail", args=[results[0].character.pk]).encode() in response.content


def test_imported_characters_are_private_with_their_avatar(client, user):
    client.force_login(user)

    client.post(IMPORT, {"files": [_file("mira.png", card_png_bytes())]})

    character = Character.objects.get(owner=user)
    assert (character.visibility, bool(character.avatar)) == ("private", True)


def test_a_file_name_is_shown_escaped(client, user):
    client.force_login(user)

    response = client.post(IMPORT, {"files": [_file("<img src=x onerror=alert(1)>.json", b"nope")]})

    assert b"<img src=x" not in response.content
    assert b"&lt;img src=x onerror=alert(1)&gt;.json" in response.content


def test_a_file_over_the_limit_is_refused_before_reading(client, user, settings):
    settings.CARD_MAX_BYTES = 10
    client.force_login(user)

    response = client.post(IMPORT, {"files": [_file("big.json", b"{" + b" " * 20 + b"}")]})

    assert response.context["results"][0].error == "The file is larger than 0 KB."
    assert Character.objects.count() == 0


def test_no_file_is_a_form_error(client, user):
    client.force_login(user)

    response = client.post(IMPORT, {})

    assert response.context["form"].errors["files"] == ["Choose at least one file."]
    assert response.context["results"] == []
