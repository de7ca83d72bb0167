"""A chat file gets the limits of the chat box on every way in (API, page, the operator's
command): a refusal names the `file` and the line, and nothing is stored."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from characters.tests.factories import CharacterFactory, card_data
from chats.models import Chat, Message, Swipe

pytestmark = pytest.mark.django_db

MIRA = "Mira the Cartographer"
HEADER = {"user_name": "You", "character_name": MIRA, "create_date": "2024-05-01@10h00m00s"}
FIVE_MB = "x" * (5 * 1024 * 1024)


def _reply(text: str = "Morning.", **fields: object) -> dict:
    return {"name": MIRA, "is_user": False, "mes": text, **fields}


def _file(*messages: dict) -> bytes:
    return ("\n".join(json.dumps(line) for line in (HEADER, *messages)) + "\n").encode()


def _ten_then(message: dict) -> bytes:
    """Ten good messages (lines 2 to 11), then `message` on line 12."""
    return _file(*(_reply(f"Line {number}.") for number in range(2, 12)), message)


REFUSED = [
    (
        _ten_then(_reply(FIVE_MB)),
        "Line 12: the message is longer than 100,000 characters.",
    ),
    (
        _file(_reply(), _reply("Hi", swipes=["Hi", "y" * 100_001])),
        "Line 3: swipe 2 is longer than 100,000 characters.",
    ),
    (
        _file(_reply("Hi", swipes=["Hi"] * 1001)),
        "Line 2: the message has more than 1,000 swipes.",
    ),
    (
        _file(_reply("Hi", extra={"reasoning": "z" * 200_001})),
        "Line 2: the message's extra data is longer than 200,000 characters.",
    ),
]
REFUSED_IDS = ["a 5 MB message", "a swipe too long", "too many swipes", "extra data too big"]


@pytest.fixture
def mira(user):  # type: ignore[no-untyped-def]
    return CharacterFactory(owner=user, card=card_data(name=MIRA))


def _post(client, content: bytes, name: str = "chat.jsonl"):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("api:chat_import"), {"file": SimpleUploadedFile(name, content)}, format="multipart"
    )


def _nothing_stored() -> bool:
    return (Chat.objects.count(), Message.objects.count(), Swipe.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(("content", "problem"), REFUSED, ids=REFUSED_IDS)
def test_the_api_refuses_naming_the_file_and_the_line(user_client, mira, content, problem):
    response = _post(user_client, content)

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid", "message": problem, "fields": {"file": [problem]}}
    }
    assert _nothing_stored()


@override_settings(CHAT_IMPORT_MAX_MESSAGES=3)
def test_the_api_refuses_more_messages_than_the_limit(user_client, mira):
    response = _post(user_client, _file(*(_reply() for _ in range(4))))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["The chat has more than 3 messages."]}
    assert _nothing_stored()


@override_settings(CHAT_IMPORT_MAX_MESSAGES=3)
def test_a_header_does_not_count_as_a_message(user_client, mira):
    response = _post(user_client, _file(*(_reply() for _ in range(3))))

    assert response.status_code == 201
    assert response.json()["message_count"] == 3


@override_settings(CHAT_IMPORT_MAX_BYTES=1000)
def test_the_api_refuses_a_file_over_the_size_limit_before_reading_it(user_client, mira):
    response = _post(user_client, _file(_reply("x" * 2000)))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "file": ["The chat file is larger than the limit of 1000\xa0bytes."]
    }
    assert _nothing_stored()


@pytest.mark.parametrize(("content", "problem"), REFUSED[:2], ids=REFUSED_IDS[:2])
def test_the_page_refuses_naming_the_line(client, user, mira, content, problem):
    client.force_login(user)

    response = client.post(reverse("chats:import"), {"file": SimpleUploadedFile("chat.jsonl", content)})

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [problem]}
    assert _nothing_stored()


@override_settings(CHAT_IMPORT_MAX_BYTES=1000)
def test_the_page_refuses_a_file_over_the_size_limit(client, user, mira):
    client.force_login(user)

    response = client.post(
        reverse("chats:import"), {"file": SimpleUploadedFile("chat.jsonl", _file(_reply("x" * 2000)))}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": ["The chat file is larger than the limit of 1000\xa0bytes."]
    }
    assert _nothing_stored()


def _st_folder(tmp_path, content: bytes):  # type: ignore[no-untyped-def]
    folder = tmp_path / "default-user"
    (folder / "chats" / MIRA).mkdir(parents=True)
    (folder / "chats" / MIRA / "2024-05-01@10h00m00s.jsonl").write_bytes(content)
    return folder


def _command(folder, user) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("import_sillytavern", str(folder), "--user", user.username, stdout=out)
    return out.getvalue()


def test_the_command_reports_the_file_and_the_line(tmp_path, user, mira):
    folder = _st_folder(tmp_path, _ten_then(_reply(FIVE_MB)))

    output = _command(folder, user)

    assert (
        f"  chats/{MIRA}/2024-05-01@10h00m00s.jsonl: Line 12: the message is longer than 100,000 characters."
        in output.splitlines()
    )
    assert "  chats: 0 imported, 0 already imported, 1 failed" in output.splitlines()
    assert _nothing_stored()


@override_settings(CHAT_IMPORT_MAX_BYTES=1000)
def test_the_command_does_not_read_a_file_over_the_size_limit(tmp_path, user, mira):
    content = _file(_reply("x" * 2000))
    folder = _st_folder(tmp_path, content)

    output = _command(folder, user)

    assert (
        f"  chats/{MIRA}/2024-05-01@10h00m00s.jsonl: "
        f"The file is {len(content):,} bytes, more than the limit of 1,000." in output.splitlines()
    )
    assert _nothing_stored()
