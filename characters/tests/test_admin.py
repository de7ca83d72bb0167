import pytest
from django.contrib.auth.models import Group

from accounts.tests.factories import UserFactory
from characters.models import Character, LorebookEntry, Visibility
from characters.tests.factories import CharacterFactory, card_data, lorebook_value, make_lorebook

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/characters/character/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def moderator():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="moderator"))
    return user


def test_roles_hold_the_character_permissions():
    moderator = Group.objects.get(name="moderator")
    staff = Group.objects.get(name="staff")

    moderator_codenames = set(
        moderator.permissions.filter(content_type__app_label="characters").values_list("codename", flat=True)
    )
    staff_codenames = set(
        staff.permissions.filter(content_type__app_label="characters").values_list("codename", flat=True)
    )

    assert moderator_codenames == {
        "view_character",
        "change_character",
        "view_lorebook",
        "change_lorebook",
        "view_lorebookentry",
        "change_lorebookentry",
        "view_tag",
        "change_tag",
        "view_category",
        "change_category",
        "view_characterversion",
        "view_persona",
    }
    assert staff_codenames == moderator_codenames | {
        "add_tag",
        "delete_tag",
        "add_category",
        "delete_category",
    }


def test_moderator_opens_the_changelist_and_hides_a_character(client, moderator):
    character = CharacterFactory(visibility=Visibility.PUBLIC)
    client.force_login(moderator)

    listing = client.get(CHANGELIST)
    response = client.post(CHANGELIST, {"action": "hide", "_selected_action": [character.pk]})

    assert listing.status_code == 200
    assert character.name in listing.content.decode()
    assert response.status_code == 302
    character.refresh_from_db()
    assert character.is_hidden is True


def test_staff_without_a_role_is_refused(client):
    CharacterFactory()
    client.force_login(UserFactory(is_staff=True))

    response = client.get(CHANGELIST)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("action", "field", "expected"),
    [
        ("unhide", "is_hidden", False),
        ("mark_nsfw", "is_nsfw", True),
        ("feature", "is_featured", True),
    ],
    ids=["unhide", "mark-nsfw", "feature"],
)
def test_moderation_actions_set_their_flag(client, moderator, action, field, expected):
    character = CharacterFactory()
    Character.objects.filter(pk=character.pk).update(is_hidden=True)
    client.force_login(moderator)

    client.post(CHANGELIST, {"action": action, "_selected_action": [character.pk]})

    character.refresh_from_db()
    assert getattr(character, field) is expected


def test_trash_and_restore_actions_soft_delete(client, moderator):
    character = CharacterFactory()
    client.force_login(moderator)

    client.post(CHANGELIST, {"action": "move_to_trash", "_selected_action": [character.pk]})
    character.refresh_from_db()
    trashed_at = character.deleted_at
    client.post(CHANGELIST, {"action": "restore", "_selected_action": [character.pk]})
    character.refresh_from_db()

    assert trashed_at is not None
    assert character.deleted_at is None


def test_deleted_filter_lists_only_the_trash(client, moderator):
    alive = CharacterFactory(card=card_data(name="Alive One"))
    trashed = CharacterFactory(card=card_data(name="Trashed One"))
    Character.objects.filter(pk=trashed.pk).update(deleted_at="2026-01-01T00:00:00Z")
    client.force_login(moderator)

    page = client.get(CHANGELIST, {"deleted": "yes"}).content.decode()

    assert trashed.name in page
    assert alive.name not in page


def test_changelist_queries_do_not_grow_with_rows(client, moderator, django_assert_num_queries):
    for _ in range(3):
        CharacterFactory()
    client.force_login(moderator)
    client.get(CHANGELIST)  # warm the content-type cache

    # session, user, user and group permissions, one count, the page (owner joined),
    # the language filter's choices
    with django_assert_num_queries(7):
        response = client.get(CHANGELIST)

    assert response.status_code == 200


def test_change_form_applies_settings_and_flags_through_services(client, moderator):
    character = CharacterFactory(card=card_data(description="Unchanged card text."))
    versions_before = character.versions.count()
    client.force_login(moderator)

    response = client.post(
        f"{CHANGELIST}{character.pk}/change/",
        {
            "visibility": Visibility.PUBLIC,
            "is_nsfw": "on",
            "language": "de",
            "is_hidden": "on",
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "0",
            "versions-0-id": character.versions.get().pk,
            "versions-0-character": character.pk,
        },
    )

    assert response.status_code == 302
    character.refresh_from_db()
    assert (character.visibility, character.is_nsfw, character.language) == (Visibility.PUBLIC, True, "de")
    assert (character.is_hidden, character.is_featured) == (True, False)
    assert character.description == "Unchanged card text."
    assert character.versions.count() == versions_before


def test_moderator_cannot_add_or_hard_delete_characters(client, moderator):
    character = CharacterFactory()
    client.force_login(moderator)

    add = client.get(f"{CHANGELIST}add/")
    delete = client.get(f"{CHANGELIST}{character.pk}/delete/")

    assert add.status_code == 403
    assert delete.status_code == 403


def test_moderator_edits_a_lorebook_entry_inline(client, moderator):
    owner = UserFactory()
    book = make_lorebook(owner, entries=2)
    first, second = book.entries.order_by("sort_index")
    client.force_login(moderator)

    def entry_fields(index, entry, **changes):
        values = {
            "id": entry.pk,
            "lorebook": book.pk,
            "keys": '["' + '", "'.join(entry.keys) + '"]',
            "comment": entry.comment,
            "content": entry.content,
            "position": entry.position,
            "order": entry.order,
            "disabled": "on" if entry.disabled else "",
        } | changes
        return {f"entries-{index}-{name}": value for name, value in values.items() if value != ""}

    response = client.post(
        f"/admin/characters/lorebook/{book.pk}/change/",
        {
            "name": "Harbour lore, revised",
            "description": "",
            "entries-TOTAL_FORMS": "2",
            "entries-INITIAL_FORMS": "2",
            "entries-MIN_NUM_FORMS": "0",
            "entries-MAX_NUM_FORMS": "1000",
            **entry_fields(0, first, comment="The harbour", keys='["harbour", "quay"]', disabled="on"),
            **entry_fields(1, second),
        },
    )

    assert response.status_code == 302
    book.refresh_from_db()
    first.refresh_from_db()
    second_after = LorebookEntry.objects.get(pk=second.pk)
    assert book.name == "Harbour lore, revised"
    assert (first.comment, first.keys, first.disabled) == ("The harbour", ["harbour", "quay"], True)
    assert (second_after.comment, second_after.keys) == ("entry 1", ["key1"])


def test_moderator_reads_versions_and_personas_but_cannot_change_them(client, moderator):
    character = CharacterFactory()
    version = character.versions.get()
    client.force_login(moderator)

    version_page = client.get(f"/admin/characters/characterversion/{version.pk}/change/")
    persona_list = client.get("/admin/characters/persona/")
    tag_add = client.get("/admin/characters/tag/add/")

    assert version_page.status_code == 200
    assert "&quot;chara_card_v3&quot;" in version_page.content.decode()
    assert persona_list.status_code == 200
    assert tag_add.status_code == 403


def test_staff_role_adds_a_tag(client):
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="staff"))
    client.force_login(staff)

    response = client.post("/admin/characters/tag/add/", {"name": "Cosy Mystery"})

    assert response.status_code == 302


def test_category_cannot_sit_under_its_own_child(client, admin_user):
    from characters.models import Category

    parent = Category.objects.create(name="Fantasy", slug="fantasy")
    child = Category.objects.create(name="High fantasy", slug="high-fantasy", parent=parent)
    client.force_login(admin_user)

    response = client.post(
        f"/admin/characters/category/{parent.pk}/change/",
        {"name": "Fantasy", "slug": "fantasy", "parent": child.pk, "position": 0},
    )

    assert response.status_code == 200
    assert "cannot sit under itself" in response.content.decode()
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_character_book_entries_show_in_lorebook_admin(client, moderator):
    character = CharacterFactory(card=card_data(character_book=lorebook_value(entries=3, name="Coast book")))
    client.force_login(moderator)

    response = client.get(f"/admin/characters/lorebook/{character.book_id}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="entries-TOTAL_FORMS" value="3"' in page
    assert "Lore number 2." in page
