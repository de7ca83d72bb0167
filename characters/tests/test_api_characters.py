"""The characters API: a user's own characters, reading others' public ones, trash, forks,
favourites; every operation refused to another user."""

import io
import json

import pytest
from django.urls import reverse
from PIL import Image
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from characters.api.serializers import CharacterListOutput
from characters.models import Character, Favourite, Visibility
from characters.records import card_value
from characters.selectors import character_get_owned
from characters.services import character_delete
from characters.tests.factories import CharacterFactory, card_data, lorebook_value

pytestmark = pytest.mark.django_db

LIST_FIELDS = {
    "id",
    "slug",
    "name",
    "avatar",
    "tags",
    "owner",
    "visibility",
    "is_nsfw",
    "language",
    "chat_count",
    "favourite_count",
    "rating_count",
    "rating",
    "created_at",
    "updated_at",
    "deleted_at",
}
CARD_FIELDS = {
    "nickname",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "alternate_greetings",
    "group_only_greetings",
    "system_prompt",
    "post_history_instructions",
    "creator_notes",
    "creator_notes_multilingual",
    "creator",
    "character_version",
    "source",
    "creation_date",
    "modification_date",
    "extensions",
    "assets",
}
DETAIL_FIELDS = LIST_FIELDS | CARD_FIELDS | {"extra", "book", "versions_count", "forked_from"}


def _as(api_client, someone):  # type: ignore[no-untyped-def]
    api_client.force_authenticate(someone)
    return api_client


# ---------------------------------------------------------------- list


def test_list_shows_only_my_live_characters(user_client, user, other_user):
    mine = CharacterFactory(owner=user)
    trashed = CharacterFactory(owner=user, card=card_data(name="Old one"))
    trashed.deleted_at = trashed.created_at
    trashed.save(update_fields=["deleted_at"])
    CharacterFactory(owner=other_user, visibility=Visibility.PUBLIC)

    response = user_client.get(reverse("api:characters"))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [item] = body["results"]
    assert set(item) == LIST_FIELDS
    assert item["id"] == mine.pk
    assert item["slug"] == "mira-the-cartographer"
    assert item["name"] == "Mira the Cartographer"
    assert item["tags"] == ["Fantasy", "Adventure"]
    assert item["owner"] == user.username
    assert item["visibility"] == "private"
    assert item["avatar"] is None
    assert item["rating"] is None
    assert item["deleted_at"] is None


def test_deleted_1_lists_the_trash(user_client, user):
    CharacterFactory(owner=user)
    trashed = CharacterFactory(owner=user, card=card_data(name="Old one"))
    user_client.delete(reverse("api:character", args=[trashed.pk]))

    response = user_client.get(reverse("api:characters"), {"deleted": "1"})

    assert [item["id"] for item in response.json()["results"]] == [trashed.pk]
    assert response.json()["results"][0]["deleted_at"] is not None


@pytest.mark.parametrize("page_size", [2, 20], ids=["page-of-2", "page-of-20"])
def test_list_runs_the_same_number_of_queries_whatever_the_page_size(
    user_client, user, page_size, django_assert_num_queries
):
    for index in range(21):
        CharacterFactory(
            owner=user, card=card_data(name=f"Character {index}", tags=[f"tag{index}", "shared"])
        )

    # JWT user lookup, the count, the page (owner joined, tag names as an array per row).
    with django_assert_num_queries(3):
        response = user_client.get(reverse("api:characters"), {"page_size": page_size})

    assert response.json()["count"] == 21
    assert len(response.json()["results"]) == page_size
    assert response.json()["results"][0]["tags"] == ["tag20", "shared"]


def _png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(image, format="PNG")
    return image.getvalue()


def test_list_row_matches_the_declared_fields(user_client, user):
    # The list writes its rows out by hand (speed); every declared field must still say the
    # same, for a row with an avatar, tags, a rating, and one in the trash.
    rated = CharacterFactory(owner=user, card=card_data(tags=["Fantasy", "Sea"]), avatar_png=_png())
    Character.objects.filter(pk=rated.pk).update(rating_count=3, rating_sum=11, chat_count=7)
    trashed = CharacterFactory(owner=user, card=card_data(name="Gone", tags=[]))
    character_delete(character=trashed)

    rows = [
        *user_client.get(reverse("api:characters")).json()["results"],
        *user_client.get(reverse("api:characters"), {"deleted": 1}).json()["results"],
    ]

    declared = [
        json.loads(
            JSONRenderer().render(
                serializers.ModelSerializer.to_representation(
                    CharacterListOutput(), character_get_owned(character_id=pk, user=user)
                )
            )
        )
        for pk in (rated.pk, trashed.pk)
    ]
    assert rows == declared
    assert set(rows[0]) == LIST_FIELDS
    assert (rows[0]["rating"], rows[0]["tags"], rows[0]["avatar"].endswith(".png")) == (
        3.67,
        ["Fantasy", "Sea"],
        True,
    )
    assert rows[1]["deleted_at"] is not None


def test_list_and_create_need_a_login(api_client):
    listed = api_client.get(reverse("api:characters"))
    created = api_client.post(reverse("api:characters"), {"name": "Nobody's"})

    assert listed.status_code == 401
    assert listed.json()["error"]["code"] == "not_authenticated"
    assert created.status_code == 401
    assert Character.objects.count() == 0


# ---------------------------------------------------------------- create


def test_create_from_card_fields(user_client, user):
    payload = {
        "name": "Captain Ilse",
        "nickname": "Ilse",
        "description": "A retired sky-pirate.",
        "personality": "gruff",
        "scenario": "An airship dock.",
        "first_mes": "  *She squints.*\n\nWhat do you want?",
        "mes_example": "<START>",
        "alternate_greetings": ["Hello.", "Go away."],
        "group_only_greetings": ["Everyone, listen."],
        "system_prompt": "Stay in character.",
        "post_history_instructions": "Be brief.",
        "creator_notes": "Made for tests.",
        "creator_notes_multilingual": {"fr": "Pour les tests."},
        "creator": "someone",
        "character_version": "1.2",
        "tags": ["Steampunk", "Pirates"],
        "source": ["https://example.com/ilse"],
        "creation_date": 1700000000,
        "modification_date": 1700000500,
        "extensions": {"depth_prompt": {"prompt": "Ahoy", "depth": 4}},
        "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
        "visibility": "unlisted",
        "is_nsfw": False,
        "language": "de",
    }

    response = user_client.post(reverse("api:characters"), payload)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    character = Character.objects.get(pk=body["id"])
    assert character.owner == user
    for name, value in payload.items():
        assert body[name] == value, name
    assert body["book"] is None
    assert body["versions_count"] == 1
    assert body["forked_from"] is None
    card = card_value(character)
    assert card.first_mes == "  *She squints.*\n\nWhat do you want?"
    assert card.tags == ["Steampunk", "Pirates"]


def test_create_with_a_character_book(user_client, user):
    book = {
        "name": "Sky lore",
        "entries": [
            {
                "keys": ["airship"],
                "content": "Airships float on aether.",
                "enabled": True,
                "insertion_order": 10,
            },
            {"keys": ["dock"], "content": "The dock is old.", "enabled": False, "insertion_order": 20},
        ],
    }

    response = user_client.post(reverse("api:characters"), {"name": "Captain Ilse", "character_book": book})

    assert response.status_code == 201
    character = Character.objects.get(pk=response.json()["id"])
    assert response.json()["book"] == {"id": character.book_id, "name": "Sky lore", "entry_count": 2}
    stored = card_value(character).character_book
    assert [entry.content for entry in stored.entries] == ["Airships float on aether.", "The dock is old."]
    assert [entry.disabled for entry in stored.entries] == [False, True]
    assert character.book.owner == user


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"description": "no name"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "visibility": "everyone"}, "visibility"),
        ({"name": "Ok", "tags": "not a list"}, "tags"),
        ({"name": "Ok", "extensions": ["not", "an", "object"]}, "extensions"),
        ({"name": "Ok", "character_book": {"entries": "nope"}}, "character_book"),
        ({"name": "Ok", "creation_date": "yesterday"}, "creation_date"),
        ({"name": "Ok", "tags": [f"tag{n}" for n in range(31)]}, "tags"),
    ],
    ids=[
        "empty-name",
        "blank-name",
        "missing-name",
        "long-name",
        "bad-visibility",
        "tags-not-a-list",
        "extensions-not-an-object",
        "bad-character-book",
        "bad-date",
        "too-many-tags",
    ],
)
def test_create_refuses_bad_input_naming_the_field(user_client, payload, field):
    response = user_client.post(reverse("api:characters"), payload)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Character.objects.count() == 0


# ---------------------------------------------------------------- read


def test_owner_reads_every_card_field(user_client, user):
    character = CharacterFactory(owner=user, card=card_data(character_book=lorebook_value(entries=3)))

    response = user_client.get(reverse("api:character", args=[character.pk]))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    card = card_data()
    assert body["description"] == card.description
    assert body["alternate_greetings"] == card.alternate_greetings
    assert body["mes_example"] == card.mes_example
    assert body["book"] == {"id": character.book_id, "name": "Harbour lore", "entry_count": 3}
    assert body["versions_count"] == 1


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.UNLISTED], ids=["public", "unlisted"])
def test_anyone_reads_a_public_or_unlisted_character(api_client, other_user, visibility):
    character = CharacterFactory(owner=other_user, visibility=visibility)

    anonymous = api_client.get(reverse("api:character", args=[character.pk]))
    signed_in = _as(api_client, other_user).get(reverse("api:character", args=[character.pk]))

    assert anonymous.status_code == 200
    assert anonymous.json()["name"] == "Mira the Cartographer"
    assert signed_in.status_code == 200


def test_another_users_private_character_is_not_found(api_client, user, other_user):
    character = CharacterFactory(owner=other_user)

    response = _as(api_client, user).get(reverse("api:character", args=[character.pk]))

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_another_users_deleted_public_character_is_not_found(api_client, user, other_user):
    character = CharacterFactory(owner=other_user, visibility=Visibility.PUBLIC)
    _as(api_client, other_user).delete(reverse("api:character", args=[character.pk]))

    response = _as(api_client, user).get(reverse("api:character", args=[character.pk]))

    assert response.status_code == 404


# ---------------------------------------------------------------- update


def test_patch_changes_only_the_fields_given(user_client, user):
    character = CharacterFactory(owner=user, card=card_data(character_book=lorebook_value()))

    response = user_client.patch(
        reverse("api:character", args=[character.pk]),
        {"description": "Now a harbour master.", "tags": ["Harbour"], "language": "fr"},
    )

    assert response.status_code == 200
    assert response.json()["description"] == "Now a harbour master."
    assert response.json()["tags"] == ["Harbour"]
    assert response.json()["language"] == "fr"
    card = card_value(Character.objects.get(pk=character.pk))
    assert card.first_mes == card_data().first_mes
    assert card.alternate_greetings == card_data().alternate_greetings
    assert len(card.character_book.entries) == 2
    assert response.json()["versions_count"] == 2


def test_patch_with_a_null_character_book_removes_the_book(user_client, user):
    character = CharacterFactory(owner=user, card=card_data(character_book=lorebook_value()))

    response = user_client.patch(reverse("api:character", args=[character.pk]), {"character_book": None})

    assert response.status_code == 200
    assert response.json()["book"] is None


def test_patch_refuses_an_empty_name_naming_the_field(user_client, user):
    character = CharacterFactory(owner=user)

    response = user_client.patch(reverse("api:character", args=[character.pk]), {"name": ""})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["This field may not be blank."]}
    character.refresh_from_db()
    assert character.name == "Mira the Cartographer"


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.UNLISTED, Visibility.PUBLIC])
def test_another_user_cannot_patch_or_delete(api_client, user, other_user, visibility):
    character = CharacterFactory(owner=other_user, visibility=visibility)
    client = _as(api_client, user)

    patched = client.patch(reverse("api:character", args=[character.pk]), {"description": "mine now"})
    deleted = client.delete(reverse("api:character", args=[character.pk]))

    assert patched.status_code == 404
    assert deleted.status_code == 404
    character.refresh_from_db()
    assert character.description == card_data().description
    assert character.deleted_at is None


def test_anonymous_cannot_patch_a_public_character(api_client, other_user):
    character = CharacterFactory(owner=other_user, visibility=Visibility.PUBLIC)

    response = api_client.patch(reverse("api:character", args=[character.pk]), {"name": "Taken"})

    assert response.status_code == 401


# ---------------------------------------------------------------- trash


def test_delete_moves_to_the_trash_and_restore_brings_back(user_client, user):
    character = CharacterFactory(owner=user)

    deleted = user_client.delete(reverse("api:character", args=[character.pk]))
    in_list = user_client.get(reverse("api:characters")).json()["count"]
    restored = user_client.post(reverse("api:character_restore", args=[character.pk]))

    assert deleted.status_code == 204
    assert in_list == 0
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert user_client.get(reverse("api:characters")).json()["count"] == 1


def test_another_user_cannot_restore(api_client, user, other_user):
    character = CharacterFactory(owner=other_user, visibility=Visibility.PUBLIC)
    _as(api_client, other_user).delete(reverse("api:character", args=[character.pk]))

    response = _as(api_client, user).post(reverse("api:character_restore", args=[character.pk]))

    assert response.status_code == 404
    character.refresh_from_db()
    assert character.deleted_at is not None


# ---------------------------------------------------------------- fork


def test_fork_makes_a_private_copy_for_the_caller(api_client, user, other_user):
    original = CharacterFactory(
        owner=other_user,
        visibility=Visibility.PUBLIC,
        card=card_data(character_book=lorebook_value()),
    )

    response = _as(api_client, user).post(reverse("api:character_fork", args=[original.pk]))

    assert response.status_code == 201
    body = response.json()
    fork = Character.objects.get(pk=body["id"])
    assert fork.owner == user
    assert body["visibility"] == "private"
    assert body["forked_from"] == original.pk
    assert card_value(fork) == card_value(original)
    assert fork.book_id != original.book_id


def test_fork_of_an_unlisted_character_works(api_client, user, other_user):
    original = CharacterFactory(owner=other_user, visibility=Visibility.UNLISTED)

    response = _as(api_client, user).post(reverse("api:character_fork", args=[original.pk]))

    assert response.status_code == 201


def test_another_users_private_character_cannot_be_forked(api_client, user, other_user):
    original = CharacterFactory(owner=other_user)

    response = _as(api_client, user).post(reverse("api:character_fork", args=[original.pk]))

    assert response.status_code == 404
    assert Character.objects.filter(owner=user).count() == 0


# ---------------------------------------------------------------- favourites


def test_favourite_and_unfavourite(api_client, user, other_user):
    character = CharacterFactory(owner=other_user, visibility=Visibility.PUBLIC)
    client = _as(api_client, user)

    added = client.post(reverse("api:character_favourite", args=[character.pk]))
    again = client.post(reverse("api:character_favourite", args=[character.pk]))
    removed = client.delete(reverse("api:character_favourite", args=[character.pk]))

    assert added.status_code == 200
    assert added.json() == {"is_favourite": True, "favourite_count": 1}
    assert again.json() == {"is_favourite": True, "favourite_count": 1}
    assert removed.json() == {"is_favourite": False, "favourite_count": 0}
    assert Favourite.objects.count() == 0


def test_another_users_private_character_cannot_be_favourited(api_client, user, other_user):
    character = CharacterFactory(owner=other_user)
    client = _as(api_client, user)

    added = client.post(reverse("api:character_favourite", args=[character.pk]))
    removed = client.delete(reverse("api:character_favourite", args=[character.pk]))

    assert added.status_code == 404
    assert removed.status_code == 404
    assert Favourite.objects.count() == 0
