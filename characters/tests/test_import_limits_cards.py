"""A card file gets the character editor's limits on every way in (API, page): a field
over its limit is refused naming the `file` (and, in the message, the card field), and no
character is stored. The editor's API names the field itself."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.cards import export_json
from characters.models import Character
from characters.tests.factories import card_data

pytestmark = pytest.mark.django_db

REFUSED = [
    ({"description": "d" * 200_001}, "The description is longer than 200,000 characters."),
    ({"first_mes": "f" * 200_001}, "The first message is longer than 200,000 characters."),
    ({"nickname": "n" * 201}, "The nickname is longer than 200 characters."),
    ({"alternate_greetings": ["Hi"] * 101}, "A card can have at most 100 alternate greetings."),
    (
        {"alternate_greetings": ["Hi", "h" * 200_001]},
        "Alternate greetings 2 is longer than 200,000 characters.",
    ),
    ({"tags": [f"tag {n}" for n in range(31)]}, "A character can have at most 30 tags."),
]
REFUSED_IDS = ["description", "first message", "nickname", "greetings", "one greeting", "tags"]


def _card(**fields: object) -> SimpleUploadedFile:
    return SimpleUploadedFile("mira.json", export_json(card_data(**fields), spec="v3"))


@pytest.mark.parametrize(("fields", "problem"), REFUSED, ids=REFUSED_IDS)
def test_the_api_refuses_naming_the_file(user_client, fields, problem):
    response = user_client.post(
        reverse("api:character_import"), {"file": _card(**fields)}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid", "message": problem, "fields": {"file": [problem]}}
    }
    assert Character.objects.count() == 0


def test_the_page_reports_the_refusal_for_that_file(client, user):
    client.force_login(user)

    response = client.post(
        reverse("characters:import"), {"files": [_card(description="d" * 200_001), _card(name="Orin")]}
    )

    assert response.status_code == 200
    assert [(r.filename, r.error) for r in response.context["results"]] == [
        ("mira.json", "The description is longer than 200,000 characters."),
        ("mira.json", ""),
    ]
    assert list(Character.objects.values_list("name", flat=True)) == ["Orin"]


def test_the_editor_api_names_the_card_field(user_client):
    response = user_client.post(
        reverse("api:characters"), {"name": "Mira", "description": "d" * 200_001}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "description": ["The description is longer than 200,000 characters."]
    }
    assert Character.objects.count() == 0
