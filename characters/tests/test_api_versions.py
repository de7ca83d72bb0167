"""Version history through the API: content edits make versions, settings do not; diff and
restore; only the owner sees any of it."""

import pytest
from django.urls import reverse

from characters.models import Character, CharacterVersion, Visibility
from characters.records import card_value
from characters.tests.factories import CharacterFactory, card_data, lorebook_value

pytestmark = pytest.mark.django_db


def _patch(client, character, payload):  # type: ignore[no-untyped-def]
    return client.patch(reverse("api:character", args=[character.pk]), payload)


def test_a_description_edit_makes_a_new_version(user_client, user):
    character = CharacterFactory(owner=user)

    response = _patch(
        user_client, character, {"description": "A retired mapmaker.", "change_summary": "Retired her"}
    )
    versions = user_client.get(reverse("api:character_versions", args=[character.pk]))

    assert response.status_code == 200
    assert response.json()["versions_count"] == 2
    assert versions.status_code == 200
    assert versions.json()["count"] == 2
    assert [(v["number"], v["change_summary"], v["author"]) for v in versions.json()["results"]] == [
        (2, "Retired her", user.username),
        (1, "Created", user.username),
    ]


def test_an_edit_without_a_summary_is_summarised_as_edited(user_client, user):
    character = CharacterFactory(owner=user)

    _patch(user_client, character, {"personality": "stern"})

    assert character.versions.get(number=2).change_summary == "Edited"


@pytest.mark.parametrize(
    "payload",
    [{"visibility": "public"}, {"is_nsfw": True}, {"language": "ja"}],
    ids=["visibility", "nsfw", "language"],
)
def test_a_settings_only_edit_makes_no_version(user_client, user, payload):
    character = CharacterFactory(owner=user)

    response = _patch(user_client, character, payload)

    assert response.status_code == 200
    assert {name: response.json()[name] for name in payload} == payload
    assert response.json()["versions_count"] == 1
    assert CharacterVersion.objects.filter(character=character).count() == 1


def test_resending_the_same_content_makes_no_version(user_client, user):
    character = CharacterFactory(owner=user)

    response = _patch(user_client, character, {"description": card_data().description})

    assert response.status_code == 200
    assert response.json()["versions_count"] == 1


def test_resending_tags_as_stored_makes_no_version(user_client, user):
    CharacterFactory(owner=user, card=card_data(name="First", tags=["Fantasy"]))
    character = CharacterFactory(owner=user, card=card_data(tags=["fantasy", "Sea  Stories"]))
    stored = user_client.get(reverse("api:character", args=[character.pk])).json()["tags"]

    response = _patch(user_client, character, {"tags": stored})

    assert stored == ["Fantasy", "Sea Stories"]
    assert response.json()["versions_count"] == 1


def test_a_version_holds_the_full_card_snapshot(user_client, user):
    character = CharacterFactory(owner=user, card=card_data(character_book=lorebook_value()))
    _patch(user_client, character, {"description": "Changed."})

    first = user_client.get(reverse("api:character_version", args=[character.pk, 1]))
    second = user_client.get(reverse("api:character_version", args=[character.pk, 2]))

    assert first.status_code == 200
    assert first.json()["number"] == 1
    assert first.json()["snapshot"]["spec"] == "chara_card_v3"
    assert first.json()["snapshot"]["data"]["description"] == card_data().description
    assert len(first.json()["snapshot"]["data"]["character_book"]["entries"]) == 2
    assert second.json()["snapshot"]["data"]["description"] == "Changed."


def test_a_missing_version_is_not_found(user_client, user):
    character = CharacterFactory(owner=user)

    response = user_client.get(reverse("api:character_version", args=[character.pk, 7]))

    assert response.status_code == 404


def test_diff_lists_the_changed_fields(user_client, user):
    character = CharacterFactory(owner=user)
    _patch(user_client, character, {"description": "A retired mapmaker.", "tags": ["Fantasy"]})

    response = user_client.get(
        reverse("api:character_version_diff", args=[character.pk]), {"from": 1, "to": 2}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == (1, 2)
    assert [change["field"] for change in body["changes"]] == ["description", "tags"]
    description = body["changes"][0]
    assert description["before"] == card_data().description
    assert description["after"] == "A retired mapmaker."
    assert description["diff"].splitlines() == [
        "--- v1",
        "+++ v2",
        "@@ -1 +1 @@",
        f"-{card_data().description}",
        "+A retired mapmaker.",
    ]
    assert body["changes"][1]["before"] == ["Fantasy", "Adventure"]
    assert body["changes"][1]["after"] == ["Fantasy"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": 2}, "from"),
        ({"from": "one", "to": 2}, "from"),
        ({"from": 1}, "to"),
        ({"from": 1, "to": 0}, "to"),
    ],
    ids=["missing-from", "from-not-a-number", "missing-to", "to-zero"],
)
def test_diff_refuses_bad_parameters_naming_them(user_client, user, query, field):
    character = CharacterFactory(owner=user)

    response = user_client.get(reverse("api:character_version_diff", args=[character.pk]), query)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_diff_with_a_missing_version_is_not_found(user_client, user):
    character = CharacterFactory(owner=user)

    response = user_client.get(
        reverse("api:character_version_diff", args=[character.pk]), {"from": 1, "to": 5}
    )

    assert response.status_code == 404


def test_restore_brings_back_an_old_version_as_a_new_one(user_client, user):
    character = CharacterFactory(owner=user, card=card_data(character_book=lorebook_value()))
    _patch(user_client, character, {"description": "Changed.", "character_book": None, "tags": []})

    response = user_client.post(reverse("api:character_version_restore", args=[character.pk, 1]))

    assert response.status_code == 200
    assert response.json()["description"] == card_data().description
    assert response.json()["tags"] == ["Fantasy", "Adventure"]
    assert response.json()["book"]["entry_count"] == 2
    assert response.json()["versions_count"] == 3
    restored = Character.objects.get(pk=character.pk)
    assert card_value(restored) == card_data(character_book=lorebook_value())
    assert restored.versions.get(number=3).change_summary == "Restored version 1"


@pytest.mark.parametrize("page_size", [2, 20], ids=["page-of-2", "page-of-20"])
def test_version_list_runs_the_same_number_of_queries_whatever_the_page_size(
    user_client, user, page_size, django_assert_num_queries
):
    character = CharacterFactory(owner=user)
    for index in range(20):
        _patch(user_client, character, {"description": f"Edit {index}"})

    # JWT user lookup, the character (owner checked) and its tags, the count, the page (authors joined).
    with django_assert_num_queries(5):
        response = user_client.get(
            reverse("api:character_versions", args=[character.pk]), {"page_size": page_size}
        )

    assert response.json()["count"] == 21
    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.UNLISTED, Visibility.PUBLIC])
def test_another_user_sees_no_version_history(api_client, user, other_user, visibility):
    character = CharacterFactory(owner=other_user, visibility=visibility)
    api_client.force_authenticate(user)

    responses = [
        api_client.get(reverse("api:character_versions", args=[character.pk])),
        api_client.get(reverse("api:character_version", args=[character.pk, 1])),
        api_client.get(reverse("api:character_version_diff", args=[character.pk]), {"from": 1, "to": 1}),
        api_client.post(reverse("api:character_version_restore", args=[character.pk, 1])),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404, 404]
    assert character.versions.count() == 1
