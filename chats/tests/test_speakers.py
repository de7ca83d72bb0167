"""Who speaks next in a group chat (SillyTavern's activation strategies). Pure."""

import random

import pytest

from chats.speakers import Candidate, next_speaker

MIRA = Candidate(1, "Mira the Cartographer", 0.5, False)
BRAM = Candidate(2, "Bram", 0.5, False)
CORA = Candidate(3, "Cora Vance", 0.5, False)
GROUP = [MIRA, BRAM, CORA]


def choose(strategy="natural", candidates=GROUP, text="", last=None, requested=None, user_spoke_last=True):
    chosen = next_speaker(
        strategy=strategy,
        candidates=candidates,
        last_user_text=text,
        last_speaker_id=last,
        requested_id=requested,
        rng=random.Random(7),
        user_spoke_last=user_spoke_last,
    )
    return chosen.name if chosen else None


def muted(candidate: Candidate) -> Candidate:
    return Candidate(candidate.character_id, candidate.name, candidate.talkativeness, True)


def talkative(candidate: Candidate, value: float) -> Candidate:
    return Candidate(candidate.character_id, candidate.name, value, candidate.is_muted)


@pytest.mark.parametrize("strategy", ["manual", "round_robin", "natural"])
def test_a_single_active_character_always_answers(strategy):
    assert choose(strategy, candidates=[MIRA, muted(BRAM)]) == MIRA.name


@pytest.mark.parametrize("strategy", ["manual", "round_robin", "natural"])
def test_nobody_answers_when_everyone_is_muted(strategy):
    assert choose(strategy, candidates=[muted(MIRA), muted(BRAM)]) is None


@pytest.mark.parametrize(
    ("requested", "candidates", "speaker"),
    [
        (CORA.character_id, GROUP, CORA.name),
        (CORA.character_id, [MIRA, BRAM, muted(CORA)], None),
        (99, GROUP, None),
    ],
    ids=["the one asked for", "a muted one asked for: nobody", "someone not in the chat: nobody"],
)
def test_a_requested_character(requested, candidates, speaker):
    assert choose("manual", candidates=candidates, requested=requested) == speaker


def test_manual_without_a_request_is_nobody():
    assert choose("manual", text="Mira?") is None


@pytest.mark.parametrize(
    ("last", "candidates", "speaker"),
    [
        (None, GROUP, MIRA.name),
        (MIRA.character_id, GROUP, BRAM.name),
        (CORA.character_id, GROUP, MIRA.name),
        (MIRA.character_id, [MIRA, muted(BRAM), CORA], CORA.name),
        (BRAM.character_id, [MIRA, muted(BRAM), CORA], MIRA.name),
    ],
    ids=[
        "nobody yet: the first",
        "after the first: the second",
        "after the last: back to the first",
        "a muted one is skipped",
        "after one now muted: the first",
    ],
)
def test_round_robin(last, candidates, speaker):
    assert choose("round_robin", candidates=candidates, last=last, text="Bram!") == speaker


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Cora, are you hurt?", CORA.name),
        ("cora vance, are you hurt?", CORA.name),
        ("What do you think, Bram? And you, Cora?", BRAM.name),
        ("Mira the Cartographer, lead on.", MIRA.name),
    ],
    ids=[
        "a first name",
        "a full name in lower case",
        "the first of two mentioned",
        "a full name of several words",
    ],
)
def test_natural_a_mentioned_character_answers(text, speaker):
    assert choose(text=text) == speaker


def test_natural_a_name_inside_another_word_is_no_mention():
    candidates = [talkative(MIRA, 1.0), talkative(BRAM, 0.0), talkative(CORA, 0.0)]

    assert choose(candidates=candidates, text="The brambles scratch.", last=CORA.character_id) == MIRA.name


def test_natural_after_the_user_spoke_the_last_speaker_may_be_addressed_again():
    assert choose(text="Bram, once more.", last=BRAM.character_id, user_spoke_last=True) == BRAM.name


def test_natural_a_character_does_not_answer_itself():
    candidates = [talkative(MIRA, 0.0), talkative(BRAM, 1.0), talkative(CORA, 1.0)]

    speaker = choose(
        candidates=candidates, text="Bram, once more.", last=BRAM.character_id, user_spoke_last=False
    )

    assert speaker == CORA.name


def test_natural_without_a_mention_the_talkative_answer():
    candidates = [talkative(MIRA, 0.0), talkative(BRAM, 0.0), talkative(CORA, 1.0)]

    assert choose(candidates=candidates, text="Anyone?") == CORA.name


def test_natural_a_muted_character_is_not_picked_by_a_mention():
    candidates = [talkative(MIRA, 1.0), muted(BRAM), talkative(CORA, 0.0)]

    assert choose(candidates=candidates, text="Bram, fix my sword.") == MIRA.name
