"""Creating and editing a character through its form, and the live token counter."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from characters.cards import default_avatar_png
from characters.models import Character, Visibility
from characters.records import card_value
from characters.tests.factories import CharacterFactory, card_data, lorebook_value

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _posted_form(response, **changes):  # type: ignore[no-untyped-def]
    """What a browser sends back for the form as shown, with `changes` typed in."""
    form = response.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = changes.get(name, form[name].value())
        if name == "avatar" or value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = field.prepare_value(value) if name == "tags" else value
    return data


def _crlf(text: str) -> str:
    """Browsers send every textarea line break as CRLF, whatever the text held."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _as_browser_sends(data):  # type: ignore[no-untyped-def]
    return {
        name: [_crlf(item) for item in value] if isinstance(value, list) else _crlf(value)
        for name, value in data.items()
    }


def test_create_makes_a_character_with_every_field(client, user):
    client.force_login(user)
    avatar = SimpleUploadedFile("me.png", default_avatar_png("Nia"), content_type="image/png")

    response = client.post(
        reverse("characters:create"),
        {
            "name": "Nia",
            "nickname": "Ni",
            "description": "A lighthouse keeper.\r\nShe hums.",
            "personality": "calm",
            "scenario": "A storm.",
            "first_mes": "Hello.",
            "alternate_greetings": ["Hi there.", "   ", "Welcome."],
            "group_only_greetings": ["Hello, all."],
            "mes_example": "<START>",
            "system_prompt": "Be Nia.",
            "post_history_instructions": "Stay in character.",
            "creator_notes": "My first card.",
            "creator": "me",
            "character_version": "1.0",
            "tags": "Sea, lighthouse, sea",
            "visibility": Visibility.PUBLIC,
            "is_nsfw": "",
            "language": "en",
            "avatar": avatar,
            "change_summary": "",
        },
    )

    character = Character.objects.get(owner=user)
    assert response.url == reverse("characters:detail", args=[character.pk])
    card = card_value(character)
    assert (card.name, card.nickname, card.description) == ("Nia", "Ni", "A lighthouse keeper.\nShe hums.")
    assert card.alternate_greetings == ["Hi there.", "Welcome."]
    assert card.group_only_greetings == ["Hello, all."]
    assert (card.system_prompt, card.post_history_instructions) == ("Be Nia.", "Stay in character.")
    assert card.tags == ["Sea", "lighthouse"]
    assert (character.visibility, character.is_nsfw, bool(character.avatar)) == ("public", False, True)
    assert list(character.versions.values_list("number", "change_summary")) == [(1, "Created")]


def test_edit_makes_a_version_and_keeps_unknown_fields_extensions_and_book(client, user):
    character = CharacterFactory(
        owner=user,
        card=card_data(
            extensions={"depth_prompt": {"prompt": "Remember the sea.", "depth": 4}, "x-tool": {"a": 1}},
            extra={"x_unknown_field": [1, 2]},
            character_book=lorebook_value(entries=3),
            source=["https://example.com/mira"],
        ),
    )
    client.force_login(user)
    url = reverse("characters:edit", args=[character.pk])

    data = _posted_form(client.get(url), description="A retired mapmaker.", change_summary="Retired her")
    response = client.post(url, data)

    assert response.status_code == 302
    character.refresh_from_db()
    card = card_value(character)
    assert card.description == "A retired mapmaker."
    assert card.extensions == {
        "depth_prompt": {"prompt": "Remember the sea.", "depth": 4},
        "x-tool": {"a": 1},
    }
    assert card.extra == {"x_unknown_field": [1, 2]}
    assert card.source == ["https://example.com/mira"]
    assert [entry.content for entry in card.character_book.entries] == [
        "Lore number 0.",
        "Lore number 1.",
        "Lore number 2.",
    ]
    assert list(character.versions.values_list("number", "change_summary")) == [
        (2, "Retired her"),
        (1, "Created"),
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf-card", "crlf-card"])
def test_saving_the_form_unchanged_makes_no_version(client, user, newline):
    text = f"Line one.{newline}Line two.{newline}"
    character = CharacterFactory(
        owner=user, card=card_data(description=text, alternate_greetings=[text], first_mes=text)
    )
    client.force_login(user)
    url = reverse("characters:edit", args=[character.pk])

    response = client.post(url, _as_browser_sends(_posted_form(client.get(url))))

    assert response.status_code == 302
    assert character.versions.count() == 1
    character.refresh_from_db()
    assert (character.description, character.alternate_greetings) == (text, [text])


def test_an_edited_field_is_saved_with_lf_line_breaks(client, user):
    character = CharacterFactory(owner=user, card=card_data(description="Old.\r\nText."))
    client.force_login(user)
    url = reverse("characters:edit", args=[character.pk])

    client.post(url, _as_browser_sends(_posted_form(client.get(url), description="New.\nText.")))

    character.refresh_from_db()
    assert character.description == "New.\nText."
    assert character.versions.count() == 2


def test_edit_changes_sharing_settings_without_a_new_version(client, user):
    character = CharacterFactory(owner=user)
    client.force_login(user)
    url = reverse("characters:edit", args=[character.pk])

    client.post(url, _posted_form(client.get(url), visibility=Visibility.UNLISTED, is_nsfw=True))

    character.refresh_from_db()
    assert (character.visibility, character.is_nsfw) == ("unlisted", True)
    assert character.versions.count() == 1


def test_a_blank_name_is_an_error_on_the_name_field(client, user):
    character = CharacterFactory(owner=user)
    client.force_login(user)
    url = reverse("characters:edit", args=[character.pk])

    response = client.post(url, _posted_form(client.get(url), name="   "))

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["A character needs a name."]
    character.refresh_from_db()
    assert character.name == "Mira the Cartographer"


def test_too_many_tags_is_an_error_on_the_tags_field(client, user):
    client.force_login(user)
    response = client.get(reverse("characters:create"))

    response = client.post(
        reverse("characters:create"),
        _posted_form(response, name="Many", tags=", ".join(f"t{n}" for n in range(31))),
    )

    assert response.context["form"].errors["tags"] == ["A character can have at most 30 tags."]
    assert Character.objects.count() == 0


def test_a_file_that_is_not_an_image_is_refused_as_avatar(client, user):
    client.force_login(user)
    response = client.get(reverse("characters:create"))
    data = _posted_form(response, name="Nia")
    data["avatar"] = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")

    response = client.post(reverse("characters:create"), data)

    assert "avatar" in response.context["form"].errors
    assert Character.objects.count() == 0


def test_the_edit_form_shows_one_textarea_per_greeting(client, user):
    character = CharacterFactory(owner=user, card=card_data(alternate_greetings=["One <b>", "Two"]))
    client.force_login(user)

    response = client.get(reverse("characters:edit", args=[character.pk]))

    content = response.content.decode()
    assert content.count('name="alternate_greetings"') == 3  # two greetings and the template for more
    assert "One &lt;b&gt;</textarea>" in content


def test_another_user_gets_404_on_edit(client, other_user, user):
    character = CharacterFactory(owner=user, visibility=Visibility.PUBLIC)
    client.force_login(other_user)
    url = reverse("characters:edit", args=[character.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Stolen", "visibility": "public", "language": "en"}).status_code == 404
    character.refresh_from_db()
    assert character.name == "Mira the Cartographer"


# ---------------------------------------------------------------- token counts


def test_token_counts_come_back_per_text(client, user):
    client.force_login(user)

    response = client.post(
        reverse("characters:tokens"),
        # "tokens " * 10 is "tokens", nine " tokens" and a trailing space: 11 tokens.
        json.dumps({"texts": {"description": "Hello world", "empty": "", "t3": "tokens " * 10}}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {"counts": {"description": 2, "empty": 0, "t3": 11}, "total": 13}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps([1]),
        json.dumps({"texts": {"a": 1}}),
        json.dumps({"texts": {str(n): "" for n in range(101)}}),
    ],
    ids=["not-json", "not-an-object", "not-text", "too-many"],
)
def test_token_counts_refuse_a_bad_request(client, user, body):
    client.force_login(user)

    response = client.post(reverse("characters:tokens"), body, content_type="application/json")

    assert response.status_code == 400


def test_token_counts_need_a_post(client, user):
    client.force_login(user)

    assert client.get(reverse("characters:tokens")).status_code == 405
