"""Who answers in a group chat: round robin takes turns, a name mentioned picks that
character, a muted character never speaks, and in manual mode nobody speaks until the
user triggers someone."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from characters.tests.factories import CharacterFactory, card_data
from chats.models import ChatParticipant, Message
from chats.tests.factories import make_chat
from chats.tests.sockets import connect
from chats.turns import turns_running
from tavern.testing.sockets import EVENT_WAIT_SECONDS, TestSocket

pytestmark = pytest.mark.django_db(transaction=True)

MIRA, BRAM, CORA = "Mira the Cartographer", "Bram the Smith", "Cora the Healer"


def _group(
    user, strategy: str, *, muted: tuple[str, ...] = (), talkativeness: dict[str, float] | None = None
):
    """Mira, Bram and Cora, in that order (Mira greets); answered by the offline demo."""
    characters = [
        CharacterFactory(owner=user, card=card_data(name=name, alternate_greetings=[]))
        for name in (MIRA, BRAM, CORA)
    ]
    chat = make_chat(user, *characters)
    chat.speaker_strategy = strategy
    chat.save(update_fields=["speaker_strategy"])
    ChatParticipant.objects.filter(chat=chat, character__name__in=muted).update(is_muted=True)
    for name, value in (talkativeness or {}).items():
        ChatParticipant.objects.filter(chat=chat, character__name=name).update(talkativeness=value)
    return chat, {c.name: c.pk for c in characters}


async def _next(socket: TestSocket, kind: str) -> dict:
    while True:
        event = await socket.receive_json_from()
        if event["type"] == kind:
            return event
        assert event["type"] != "error", event


async def _speakers(chat_id: int, user, lines: list[str]) -> list[str]:
    socket = await connect(chat_id, user)
    names = []
    for number, line in enumerate(lines):
        await socket.send_json_to({"type": "send", "content": line, "client_id": f"c-{number}"})
        done = await _next(socket, "done")
        names.append(done["message"]["name"])
    await socket.disconnect()
    return names


async def _generations_finished() -> None:
    """Wait for the replies the consumers started (a manual chat's send starts one that ends silently)."""
    await asyncio.wait_for(asyncio.gather(*turns_running()), timeout=EVENT_WAIT_SECONDS)


async def test_round_robin_takes_turns_after_the_greeter(user):
    chat, _ = await database_sync_to_async(_group)(user, "round_robin")

    names = await _speakers(chat.pk, user, ["Hello all.", "And then?", "Go on."])

    assert names == [BRAM, CORA, MIRA]


async def test_round_robin_skips_a_muted_character(user):
    chat, _ = await database_sync_to_async(_group)(user, "round_robin", muted=(BRAM,))

    names = await _speakers(chat.pk, user, ["Hello all.", "And then?", "Go on."])

    assert names == [CORA, MIRA, CORA]


@pytest.mark.parametrize(
    ("line", "speaker"),
    [
        ("Cora, can you look at this cut?", CORA),
        ("What do you make of it, Bram?", BRAM),
        ("Mira, where does this road go?", MIRA),
        ("I ask Bram the Smith about the blade.", BRAM),
    ],
    ids=[
        "first name at the start",
        "first name at the end",
        "the character who spoke last, addressed again",
        "full name",
    ],
)
async def test_a_mentioned_character_answers(user, line, speaker):
    chat, _ = await database_sync_to_async(_group)(user, "natural")

    names = await _speakers(chat.pk, user, [line])

    assert names == [speaker]


async def test_a_muted_character_does_not_answer_a_mention(user):
    chat, _ = await database_sync_to_async(_group)(
        user, "natural", muted=(BRAM,), talkativeness={MIRA: 1.0, CORA: 0.0}
    )

    names = await _speakers(chat.pk, user, ["Bram, fix my sword."])

    assert names == [MIRA]


async def test_manual_mode_waits_for_a_trigger_and_the_triggered_character_answers(user):
    chat, ids = await database_sync_to_async(_group)(user, "manual")
    socket = await connect(chat.pk, user)
    await socket.send_json_to({"type": "send", "content": "Who wants to speak?", "client_id": "c-1"})
    await _next(socket, "message_created")
    await _generations_finished()
    after_send = await database_sync_to_async(
        lambda: list(Message.objects.filter(chat=chat).order_by("position").values_list("author", flat=True))
    )()

    await socket.send_json_to({"type": "trigger", "character_id": ids[CORA]})
    started = await _next(socket, "generation_started")
    done = await _next(socket, "done")
    await socket.disconnect()

    assert after_send == ["character", "user"]
    assert started["character"] == {"id": ids[CORA], "name": CORA}
    assert (done["message"]["name"], done["message"]["character_id"]) == (CORA, ids[CORA])
