import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from characters.cards import default_avatar_png, export_json, world_to_sillytavern
from characters.models import DescriptionPosition, Lorebook, Persona
from characters.tests.factories import card_data, card_png_bytes, lorebook_value
from chats.models import Chat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def st_folder(tmp_path):
    """A SillyTavern `data/default-user/` folder as a user would have it."""
    folder = tmp_path / "default-user"
    characters = folder / "characters"
    (characters / "Mira the Cartographer").mkdir(parents=True)  # expression sprites, not cards
    (characters / "Mira the Cartographer" / "joy.png").write_bytes(default_avatar_png("joy"))
    (characters / "Mira the Cartographer.png").write_bytes(card_png_bytes())
    (characters / "Orin.png").write_bytes(
        card_png_bytes(name="Orin", character_book=lorebook_value(entries=2, name="Orin's notes"))
    )
    (characters / "Sable.json").write_bytes(export_json(card_data(name="Sable"), spec="v2"))
    (characters / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)

    (folder / "worlds").mkdir()
    (folder / "worlds" / "Harbour.json").write_text(
        json.dumps(world_to_sillytavern(lorebook_value(entries=3)))
    )

    (folder / "User Avatars").mkdir()
    (folder / "User Avatars" / "1700000000-ada.png").write_bytes(default_avatar_png("Ada"))
    (folder / "settings.json").write_text(
        json.dumps(
            {
                "username": "someone",
                "power_user": {
                    "personas": {"1700000000-ada.png": "Ada", "1700000001-bram.png": "Bram"},
                    "persona_descriptions": {
                        "1700000000-ada.png": {
                            "description": "A courier who never reads the letters.",
                            "position": 4,
                            "depth": 3,
                            "role": 1,
                        },
                        "1700000001-bram.png": {"description": "A retired pirate.", "position": 2},
                    },
                    "default_persona": "1700000001-bram.png",
                },
            }
        )
    )

    (folder / "chats" / "Mira the Cartographer").mkdir(parents=True)
    for day in ("2024-05-01@10h00m00s", "2024-05-02@11h30m00s"):
        (folder / "chats" / "Mira the Cartographer" / f"{day}.jsonl").write_text(
            "\n".join(
                json.dumps(line)
                for line in (
                    {"user_name": "You", "character_name": "Mira the Cartographer", "create_date": day},
                    {
                        "name": "Mira the Cartographer",
                        "is_user": False,
                        "mes": f"Morning of {day}.",
                        "swipes": [f"Morning of {day}.", "Another morning."],
                        "swipe_id": 0,
                    },
                    {"name": "You", "is_user": True, "mes": "Show me the map."},
                )
            )
            + "\n"
        )
    (folder / "group chats").mkdir()
    (folder / "group chats" / "1700000000000.jsonl").write_text(
        "\n".join(
            json.dumps(line)
            for line in (
                {"name": "Orin", "is_user": False, "mes": "Welcome aboard."},
                {"name": "You", "is_user": True, "mes": "Hello both."},
                {"name": "Sable", "is_user": False, "mes": "Mind the ropes."},
            )
        )
        + "\n"
    )
    return folder


def run_import(folder, *options):
    out = io.StringIO()
    call_command("import_sillytavern", str(folder), *options, stdout=out)
    return out.getvalue()


def test_imports_characters_worlds_and_personas(st_folder, user):
    output = run_import(st_folder, "--user", user.username)

    assert "  characters: 3 imported, 0 already imported, 1 failed" in output
    assert "  lorebooks: 1 imported, 0 already imported, 0 failed" in output
    assert "  personas: 2 imported, 0 already imported, 0 failed" in output
    assert "  chats: 3 imported, 0 already imported, 0 failed" in output
    assert "Done: 9 new item(s)." in output
    assert sorted(user.characters.values_list("name", "visibility")) == [
        ("Mira the Cartographer", "private"),
        ("Orin", "private"),
        ("Sable", "private"),
    ]
    orin = user.characters.get(name="Orin")
    assert (orin.book.name, orin.book.entries.count()) == ("Orin's notes", 2)
    assert bool(orin.avatar) is True
    assert orin.versions.get().change_summary == "Imported from SillyTavern (Orin.png, V3)"


def test_world_is_named_after_its_file(st_folder, user):
    run_import(st_folder, "--user", user.username)

    world = Lorebook.objects.get(owner=user, character__isnull=True)

    assert (world.name, world.entries.count()) == ("Harbour", 3)


def test_personas_keep_their_description_settings_avatar_and_default(st_folder, user):
    run_import(st_folder, "--user", user.username)

    ada = Persona.objects.get(owner=user, name="Ada")
    bram = Persona.objects.get(owner=user, name="Bram")

    assert (ada.description, ada.description_position, ada.depth, ada.role) == (
        "A courier who never reads the letters.",
        DescriptionPosition.AT_DEPTH,
        3,
        "user",
    )
    assert bool(ada.avatar) is True
    assert (bram.description_position, bram.depth, bram.role, bool(bram.avatar)) == (
        DescriptionPosition.TOP_AN,
        2,
        "system",
        False,
    )
    assert (ada.is_default, bram.is_default) == (False, True)


def test_a_corrupt_card_is_reported_and_the_rest_imported(st_folder, user):
    output = run_import(st_folder, "--user", user.username)

    assert "1 file(s) could not be imported:" in output
    failure_lines = [line for line in output.splitlines() if line.startswith("  characters/broken.png:")]
    assert len(failure_lines) == 1
    assert user.characters.count() == 3


def test_solo_and_group_chats_are_imported_with_their_swipes(st_folder, user):
    run_import(st_folder, "--user", user.username)

    solo = Chat.objects.filter(owner=user, settings__imported_from__startswith="chats/").order_by("pk")
    group = Chat.objects.get(owner=user, settings__imported_from="group chats/1700000000000.jsonl")

    assert solo.count() == 2
    first = solo.first().messages.order_by("position")
    assert [(m.author, m.content, m.swipe_count) for m in first] == [
        ("character", "Morning of 2024-05-01@10h00m00s.", 2),
        ("user", "Show me the map.", 1),
    ]
    assert sorted(group.participants.values_list("character__name", flat=True)) == ["Orin", "Sable"]
    assert list(group.messages.order_by("position").values_list("name", flat=True)) == [
        "Orin",
        "You",
        "Sable",
    ]


def test_progress_is_shown_per_item(st_folder, user):
    output = run_import(st_folder, "--user", user.username)

    assert "Importing 10 item(s) from" in output
    assert "] 1/10 characters/Mira the Cartographer.png: imported" in output
    assert "] 4/10 characters/broken.png: failed" in output
    assert "] 7/10 settings.json: persona 'Bram': imported" in output
    assert "[############################] 10/10 group chats/1700000000000.jsonl: imported" in output


def test_second_run_imports_nothing(st_folder, user):
    run_import(st_folder, "--user", user.username)
    counts = (user.characters.count(), Lorebook.objects.filter(owner=user).count(), user.personas.count())

    output = run_import(st_folder, "--user", user.username)

    assert "  characters: 0 imported, 3 already imported, 1 failed" in output
    assert "  lorebooks: 0 imported, 1 already imported, 0 failed" in output
    assert "  personas: 0 imported, 2 already imported, 0 failed" in output
    assert "  chats: 0 imported, 3 already imported, 0 failed" in output
    assert "Done: 0 new item(s)." in output
    assert (
        user.characters.count(),
        Lorebook.objects.filter(owner=user).count(),
        user.personas.count(),
    ) == counts


def test_a_changed_card_with_the_same_name_is_imported_again(st_folder, user):
    run_import(st_folder, "--user", user.username)
    (st_folder / "characters" / "Sable.json").write_bytes(
        export_json(card_data(name="Sable", description="Sable, after the rewrite."), spec="v2")
    )

    output = run_import(st_folder, "--user", user.username)

    assert "  characters: 1 imported, 2 already imported, 1 failed" in output
    assert user.characters.filter(name="Sable").count() == 2


def test_a_world_with_a_different_entry_count_is_imported_again(st_folder, user):
    run_import(st_folder, "--user", user.username)
    (st_folder / "worlds" / "Harbour.json").write_text(
        json.dumps(world_to_sillytavern(lorebook_value(entries=4)))
    )

    output = run_import(st_folder, "--user", user.username)

    assert "  lorebooks: 1 imported, 0 already imported, 0 failed" in output


def test_imports_into_the_demo_user_by_default(st_folder, settings):
    demo = UserFactory(username=settings.DEMO_USERNAME)

    run_import(st_folder)

    assert demo.characters.count() == 3


def test_a_whole_data_folder_means_its_default_user(st_folder, user):
    output = run_import(st_folder.parent, "--user", user.username)

    assert f"from {st_folder} into" in output
    assert user.characters.count() == 3


def test_an_existing_default_persona_stays_the_default(st_folder, user):
    from characters.services import persona_save

    mine = persona_save(owner=user, persona=None, data={"name": "Me", "is_default": True})

    run_import(st_folder, "--user", user.username)

    mine.refresh_from_db()
    assert mine.is_default is True
    assert list(user.personas.filter(is_default=True)) == [mine]


def test_an_unreadable_settings_file_is_reported(st_folder, user):
    (st_folder / "settings.json").write_text("{not json")

    output = run_import(st_folder, "--user", user.username)

    assert "  personas: 0 imported, 0 already imported, 1 failed" in output
    assert "  settings.json: " in output
    assert user.characters.count() == 3


def test_unknown_user_is_an_error(st_folder):
    with pytest.raises(CommandError, match="There is no user 'nobody'"):
        run_import(st_folder, "--user", "nobody")


def test_a_missing_folder_is_an_error(tmp_path, user):
    with pytest.raises(CommandError, match="is not a folder"):
        run_import(tmp_path / "missing", "--user", user.username)
