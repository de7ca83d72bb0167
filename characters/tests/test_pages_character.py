"""The character page and what it links to: favourite, fork, export, delete, versions."""

import pytest
from django.urls import reverse

from characters.cards import parse_card_bytes
from characters.models import Character, Visibility
from characters.services import character_delete, character_update
from characters.tests.factories import CharacterFactory, card_data, card_png_bytes, lorebook_value

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def character(user):  # type: ignore[no-untyped-def]
    return CharacterFactory(owner=user, card=card_data(character_book=lorebook_value()))


def _edit(character, **changes):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from characters.records import card_value

    return character_update(
        character=character, editor=character.owner, card=replace(card_value(character), **changes)
    )


def test_the_owner_sees_the_whole_card_and_owner_actions(client, user, character):
    client.force_login(user)

    response = client.get(reverse("characters:detail", args=[character.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Mira the Cartographer" in content
    assert "A wandering mapmaker" in content
    assert "Sit, the rain won&#x27;t stop for hours." in content
    assert reverse("characters:edit", args=[character.pk]) in content
    assert reverse("characters:versions", args=[character.pk]) in content
    assert [version.number for version in response.context["versions"]] == [1]


def test_line_breaks_are_kept_and_script_is_escaped(client, user):
    character = CharacterFactory(
        owner=user,
        card=card_data(description="<script>alert(1)</script>\nSecond line", first_mes="<b>hi</b>"),
    )
    client.force_login(user)

    response = client.get(reverse("characters:detail", args=[character.pk]))

    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;<br>Second line" in response.content
    assert b"&lt;b&gt;hi&lt;/b&gt;" in response.content


@pytest.mark.parametrize(
    ("visibility", "status"),
    [(Visibility.PRIVATE, 404), (Visibility.UNLISTED, 200), (Visibility.PUBLIC, 200)],
    ids=["private", "unlisted", "public"],
)
def test_other_users_see_only_shared_characters(client, other_user, user, visibility, status):
    character = CharacterFactory(owner=user, visibility=visibility)
    client.force_login(other_user)

    response = client.get(reverse("characters:detail", args=[character.pk]))

    assert response.status_code == status
    if status == 200:
        assert reverse("characters:edit", args=[character.pk]).encode() not in response.content
        assert response.context["versions"] == []


def test_a_deleted_public_character_is_gone_for_others_but_not_its_owner(client, user, other_user):
    character = CharacterFactory(owner=user, visibility=Visibility.PUBLIC)
    character_delete(character=character)

    client.force_login(other_user)
    assert client.get(reverse("characters:detail", args=[character.pk])).status_code == 404
    client.force_login(user)
    response = client.get(reverse("characters:detail", args=[character.pk]))
    assert b"This character is in the trash" in response.content


@pytest.mark.parametrize("fmt", ["png", "json-v2", "json-v3", "charx"])
def test_every_export_reads_back_as_the_same_card(client, user, character, fmt):
    client.force_login(user)

    response = client.get(reverse("characters:export", args=[character.pk, fmt]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    parsed = parse_card_bytes(response.content, max_bytes=10_000_000)
    assert parsed.card.name == "Mira the Cartographer"
    assert parsed.card.tags == ["Fantasy", "Adventure"]
    assert len(parsed.card.character_book.entries) == 2
    assert parsed.spec_version == ("v2" if fmt == "json-v2" else "v3")


def test_png_export_carries_the_imported_avatar(client, user):
    from characters.services import character_import

    character = character_import(owner=user, data=card_png_bytes(), filename="mira.png")
    client.force_login(user)

    response = client.get(reverse("characters:export", args=[character.pk, "png"]))

    with character.avatar.open("rb") as stored:
        assert parse_card_bytes(response.content, max_bytes=10_000_000).avatar_png == stored.read()


@pytest.mark.parametrize("fmt", ["png", "json-v3"])
def test_another_users_private_character_cannot_be_exported(client, other_user, character, fmt):
    client.force_login(other_user)

    response = client.get(reverse("characters:export", args=[character.pk, fmt]))

    assert response.status_code == 404


def test_an_unknown_export_format_is_not_found(client, user, character):
    client.force_login(user)

    assert client.get(reverse("characters:export", args=[character.pk, "exe"])).status_code == 404


def test_favourite_toggles_on_and_off(client, other_user, user):
    character = CharacterFactory(owner=user, visibility=Visibility.PUBLIC)
    client.force_login(other_user)
    url = reverse("characters:favourite", args=[character.pk])

    client.post(url, {"on": "1"})
    character.refresh_from_db()
    assert character.favourite_count == 1
    assert client.get(reverse("characters:detail", args=[character.pk])).context["is_favourite"] is True

    client.post(url, {"on": "0"})
    character.refresh_from_db()
    assert character.favourite_count == 0


def test_fork_makes_a_private_copy_for_the_forker(client, other_user, user):
    character = CharacterFactory(owner=user, visibility=Visibility.PUBLIC)
    client.force_login(other_user)

    response = client.post(reverse("characters:fork", args=[character.pk]))

    fork = Character.objects.get(owner=other_user)
    assert response.url == reverse("characters:edit", args=[fork.pk])
    assert (fork.forked_from_id, fork.visibility, fork.name) == (character.pk, "private", character.name)


def test_a_private_character_of_another_user_cannot_be_forked_or_favourited(client, other_user, character):
    client.force_login(other_user)

    assert client.post(reverse("characters:fork", args=[character.pk])).status_code == 404
    assert client.post(reverse("characters:favourite", args=[character.pk]), {"on": "1"}).status_code == 404
    assert Character.objects.filter(owner=other_user).count() == 0


def test_changes_need_a_post(client, user, character):
    client.force_login(user)

    for name in ("delete", "fork", "favourite", "restore"):
        assert client.get(reverse(f"characters:{name}", args=[character.pk])).status_code == 405


def test_delete_goes_to_the_trash_and_restore_brings_it_back(client, user, character):
    client.force_login(user)

    client.post(reverse("characters:delete", args=[character.pk]))
    trash = client.get(reverse("characters:mine"), {"tab": "trash"})
    assert [c.pk for c in trash.context["page"].object_list] == [character.pk]
    assert list(client.get(reverse("characters:mine")).context["page"].object_list) == []

    client.post(reverse("characters:restore", args=[character.pk]))
    character.refresh_from_db()
    assert character.deleted_at is None


def test_another_user_cannot_delete_or_restore(client, other_user, character):
    client.force_login(other_user)

    assert client.post(reverse("characters:delete", args=[character.pk])).status_code == 404
    assert client.post(reverse("characters:restore", args=[character.pk])).status_code == 404
    character.refresh_from_db()
    assert character.deleted_at is None


def test_my_characters_queries_do_not_grow_with_the_list(client, user, django_assert_num_queries):
    for index in range(5):
        CharacterFactory(owner=user, card=card_data(name=f"C{index}"))
    client.force_login(user)

    # the session, the user, the count, the page, the page's tags
    with django_assert_num_queries(5):
        response = client.get(reverse("characters:mine"))

    assert len(response.context["page"].object_list) == 5


# ---------------------------------------------------------------- versions


def test_versions_compare_shows_a_diff_of_the_changed_field(client, user, character):
    _edit(character, description="A retired mapmaker.")
    client.force_login(user)

    response = client.get(reverse("characters:versions", args=[character.pk]), {"a": "1", "b": "2"})

    assert response.status_code == 200
    assert [change.field for change in response.context["changes"]] == ["description"]
    assert b"+A retired mapmaker." in response.content
    assert b"<pre" in response.content


def test_comparing_a_version_with_itself_is_refused(client, user, character):
    _edit(character, description="Changed.")
    client.force_login(user)

    response = client.get(reverse("characters:versions", args=[character.pk]), {"a": "2", "b": "2"})

    assert response.context["changes"] is None
    assert response.context["compare"].non_field_errors() == ["Choose two different versions."]


def test_restoring_a_version_makes_a_new_one(client, user, character):
    _edit(character, description="Changed.")
    client.force_login(user)

    response = client.post(reverse("characters:version_restore", args=[character.pk, 1]))

    assert response.status_code == 302
    character.refresh_from_db()
    assert character.description.startswith("A wandering mapmaker")
    assert list(character.versions.values_list("number", "change_summary")) == [
        (3, "Restored version 1"),
        (2, "Edited"),
        (1, "Created"),
    ]


def test_another_user_gets_404_on_versions(client, other_user, user):
    character = CharacterFactory(owner=user, visibility=Visibility.PUBLIC)
    client.force_login(other_user)

    assert client.get(reverse("characters:versions", args=[character.pk])).status_code == 404
    assert client.post(reverse("characters:version_restore", args=[character.pk, 1])).status_code == 404


# ---------------------------------------------------------------- sign-in


@pytest.mark.parametrize(
    ("method", "name", "needs_id"),
    [
        ("get", "characters:create", False),
        ("get", "characters:import", False),
        ("get", "characters:mine", False),
        ("post", "characters:tokens", False),
        ("get", "characters:edit", True),
        ("get", "characters:versions", True),
        ("post", "characters:favourite", True),
        ("post", "characters:fork", True),
        ("post", "characters:delete", True),
        ("get", "characters:lorebooks", False),
        ("get", "characters:personas", False),
        ("get", "characters:persona_new", False),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_anonymous_users_are_sent_to_log_in(client, user, method, name, needs_id):
    character = CharacterFactory(owner=user, visibility=Visibility.PUBLIC)
    url = reverse(name, args=[character.pk] if needs_id else [])

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
