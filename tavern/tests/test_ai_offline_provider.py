"""The offline demo provider: in character, from the card, deterministic per turn, paced like a model."""

import asyncio
import itertools

import pytest

from tavern.ai.chat import StreamFinished, TokenDelta, TokenUsage
from tavern.ai.offline_provider import (
    OFFLINE_CONNECTION_LABEL,
    OFFLINE_MODEL,
    ExampleLine,
    OfflineCard,
    OfflineConnection,
    compose_offline_reply,
    paced_pieces,
    parse_example_dialogue,
    replace_macros,
    stream_offline_reply,
)
from tavern.ai.tokenizer import count_tokens

MARA = OfflineCard(
    name="Mara",
    description="{{char}} is a fisherwoman in the port town of Saltmere.",
    personality="gruff, loyal, superstitious",
    scenario="{{user}} has just arrived in Saltmere on the evening ferry.",
    first_mes='*Mara looks up from her nets.* "Evening, {{user}}. Ferry was late again."',
    mes_example=(
        "<START>\n"
        "{{user}}: Do you like the sea?\n"
        '{{char}}: *She spits over the rail.* "Like it? The sea feeds me. That is not the same thing."\n'
        "<START>\n"
        "{{user}}: Any news?\n"
        '{{char}}: "The gulls are flying low, {{user}}."\n'
        "Storm coming, mark me.\n"
        "<START>\n"
        '<BOT>: "Mind the third plank on the pier, <USER>. It bites."'
    ),
    alternate_greetings=('*Mara waves you over.* "You look lost, {{user}}."',),
)
MARA_LINES = (
    '*She spits over the rail.* "Like it? The sea feeds me. That is not the same thing."',
    '"The gulls are flying low, Anna." Storm coming, mark me.',
    '"Mind the third plank on the pier, Anna. It bites."',
)


def compose(
    user_message: str = "Tell me about the harbour.", *, chat_id: int = 7, turn: int = 3, swipe: int = 0
) -> str:
    return compose_offline_reply(
        MARA, user_message=user_message, persona_name="Anna", chat_id=chat_id, turn=turn, swipe=swipe
    )


def test_reply_reacts_to_the_user_and_speaks_as_the_character():
    reply = compose("Tell me about the harbour.")

    opening, voice = reply.split("\n\n")[:2]
    assert opening.startswith("*Mara ")
    assert opening.split("*")[2].strip() in {
        '"You ask about the harbour…"',
        '"The harbour? You want to hear about the harbour?"',
    }
    assert voice.startswith(MARA_LINES)


@pytest.mark.parametrize(
    ("user_message", "echoed"),
    [
        ("Tell me about the harbour.", "the harbour"),
        ("*sits down* What is your favourite food?", "my favourite food"),
        ("Where are you going?", "Where am I going?"),
        ("I found a strange key in the cellar.", "a strange key in the cellar"),
        ("I am tired", "You are tired"),
    ],
    ids=[
        "about-phrase",
        "my-and-your-swap-and-actions-dropped",
        "question-echoed",
        "statement-phrase",
        "i-am",
    ],
)
def test_reply_echoes_the_key_phrase_as_the_character_would_say_it(user_message, echoed):
    opening = compose(user_message).split("\n\n")[0]

    assert echoed.lower() in opening.lower()
    assert opening.count('"') == 2


def test_no_macro_is_left_and_names_are_filled_in():
    for turn in range(12):
        reply = compose("Any news?", turn=turn)
        assert "{{" not in reply
        assert "<BOT>" not in reply
        assert "<USER>" not in reply
        assert "Mara" in reply


def test_macros_are_replaced_in_any_letter_case():
    text = "{{Char}} greets {{USER}}; <bot> nods at <User>."

    assert replace_macros(text, char_name="Mara", user_name="Anna") == "Mara greets Anna; Mara nods at Anna."


def test_same_chat_and_turn_give_the_same_reply():
    assert compose(turn=4) == compose(turn=4)


def test_another_turn_a_swipe_or_another_chat_gives_another_reply():
    replies = {compose(turn=turn) for turn in range(1, 6)}
    replies |= {compose(turn=3, swipe=swipe) for swipe in range(1, 4)}
    replies.add(compose(chat_id=8))

    assert len(replies) == 9


def test_consecutive_turns_open_with_another_gesture():
    openings = [compose(turn=turn).split("*")[1] for turn in range(8)]

    assert all(first != second for first, second in itertools.pairwise(openings))


def test_without_a_user_message_the_reply_is_a_greeting_of_the_card():
    greetings = {compose("", turn=turn) for turn in range(10)}

    assert greetings == {
        '*Mara looks up from her nets.* "Evening, Anna. Ferry was late again."',
        '*Mara waves you over.* "You look lost, Anna."',
    }


def test_a_bare_card_still_gets_an_in_character_reply():
    reply = compose_offline_reply(
        OfflineCard(name="Nobody"), user_message="Hello!", persona_name="Anna", chat_id=1, turn=1
    )

    assert reply.startswith("*Nobody ")
    assert "Anna" in reply


def test_the_description_gives_narration_when_personality_and_scenario_are_empty():
    card = OfflineCard(name="Iris", description="{{char}} keeps the lighthouse. She has not slept in days.")
    replies = [
        compose_offline_reply(card, user_message="Hi", persona_name="Anna", chat_id=1, turn=turn)
        for turn in range(6)
    ]

    assert any(
        "*Iris keeps the lighthouse.*" in reply or "*She has not slept in days.*" in reply
        for reply in replies
    )


def test_example_dialogue_is_parsed_into_blocks_and_speakers():
    blocks = parse_example_dialogue(MARA.mes_example, char_name="Mara", user_name="Anna")

    assert blocks == [
        [
            ExampleLine("user", "Do you like the sea?"),
            ExampleLine(
                "char", '*She spits over the rail.* "Like it? The sea feeds me. That is not the same thing."'
            ),
        ],
        [
            ExampleLine("user", "Any news?"),
            ExampleLine("char", '"The gulls are flying low, {{user}}."\nStorm coming, mark me.'),
        ],
        [ExampleLine("char", '"Mind the third plank on the pier, <USER>. It bites."')],
    ]


def test_example_lines_may_name_the_speakers():
    blocks = parse_example_dialogue("<START>\nAnna: Hi\nMara: Hm.", char_name="Mara", user_name="Anna")

    assert blocks == [[ExampleLine("user", "Hi"), ExampleLine("char", "Hm.")]]


async def test_stream_yields_the_reply_word_by_word_then_finished():
    connection = OfflineConnection(
        card=MARA,
        chat_id=7,
        turn=3,
        persona_name="Anna",
        user_message="Tell me about the harbour.",
        tokens_per_second=0,
    )

    events = [event async for event in stream_offline_reply(connection)]

    expected = compose("Tell me about the harbour.")
    assert "".join(event.text for event in events[:-1]) == expected
    assert all(isinstance(event, TokenDelta) and len(event.text.split()) == 1 for event in events[:-1])
    assert events[-1] == StreamFinished(
        finish_reason="stop",
        usage=TokenUsage(prompt_tokens=0, completion_tokens=count_tokens(expected)),
        model=OFFLINE_MODEL,
    )


async def test_stream_reads_the_last_user_message_of_the_prompt():
    connection = OfflineConnection(card=MARA, chat_id=7, turn=3, persona_name="Anna", tokens_per_second=0)
    messages = [
        {"role": "user", "content": "Hello."},
        {"role": "assistant", "content": "Evening."},
        {"role": "user", "content": "Tell me about the harbour."},
    ]

    text = "".join(
        [
            event.text
            async for event in stream_offline_reply(connection, messages)
            if isinstance(event, TokenDelta)
        ]
    )

    assert text == compose("Tell me about the harbour.")


def test_the_offline_connection_is_labelled_as_a_demo_not_a_model():
    connection = OfflineConnection(card=MARA, chat_id=7, turn=3)

    assert (connection.label, connection.model) == (OFFLINE_CONNECTION_LABEL, OFFLINE_MODEL)
    assert (OFFLINE_CONNECTION_LABEL, OFFLINE_MODEL) == ("Offline demo", "offline-demo")


async def test_pacing_releases_each_word_no_earlier_than_its_tokens_allow():
    text = " ".join(["word"] * 20)  # 20 tokens
    loop = asyncio.get_running_loop()
    started = loop.time()

    released = [(piece, loop.time() - started) async for piece in paced_pieces(text, tokens_per_second=100)]

    # A busy machine can only make words later, never earlier: the pace is a lower bound.
    assert len(released) == 20
    assert all(at >= (number + 1) / 100 - 0.001 for number, (_, at) in enumerate(released))


async def test_zero_tokens_per_second_streams_without_waiting(monkeypatch):
    async def never(delay):  # type: ignore[no-untyped-def]
        raise AssertionError(f"slept {delay} s")

    monkeypatch.setattr("tavern.ai.offline_provider.asyncio.sleep", never)

    pieces = [piece async for piece in paced_pieces(" ".join(["word"] * 200), tokens_per_second=0)]

    assert len(pieces) == 200


def test_negative_pace_is_refused():
    with pytest.raises(ValueError, match="tokens_per_second"):
        OfflineConnection(card=MARA, chat_id=1, turn=1, tokens_per_second=-1)
