"""One reply's accounting (`chats.reply_tally`), fed the events a reply stream yields:
the text, how it ended, its tokens (the provider's count, else ours), its cost by the
connection that answered, and its settlement: stored, then the daily tokens spent, once."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from accounts.tests.factories import UserFactory
from chats.models import UsageRecord
from chats.reply_tally import ReplyTally, reply_settle
from chats.services import GenerationRecord, usage_record
from chats.tests.quota_counts import tokens_spent_today
from tavern.ai.chat import ConnectionUsed, ReasoningDelta, StreamFinished, TokenDelta, TokenUsage
from tavern.ai.tokenizer import count_message_tokens, count_tokens

PROMPT = [
    {"role": "system", "content": "You are Mira, a harbour pilot."},
    {"role": "user", "content": "Will the fog lift by noon?"},
]
OPENROUTER = "https://openrouter.ai/api/v1"
# gpt-4o-mini's list price: $0.15 a million prompt tokens, $0.60 a million completion tokens.
GPT_4O_MINI_1000_IN_500_OUT = 450


def _tally(*events: object) -> ReplyTally:
    tally = ReplyTally(PROMPT)
    for event in events:
        tally.add(event)  # type: ignore[arg-type]
    return tally


def _answered(base_url: str | None = OPENROUTER, model: str = "openai/gpt-4o-mini") -> ConnectionUsed:
    return ConnectionUsed(label="OpenRouter", model=model, base_url=base_url)


def test_a_finished_reply_is_recorded_with_the_providers_count_and_model():
    tally = _tally(
        _answered(),
        ReasoningDelta("The user asks about the weather."),
        TokenDelta("By noon, "),
        TokenDelta(""),
        TokenDelta("it will."),
        StreamFinished(
            "length", TokenUsage(prompt_tokens=1000, completion_tokens=500), "gpt-4o-mini-2024-07-18"
        ),
    )

    record = tally.record()

    assert tally.text == "By noon, it will."
    assert (
        record.connection_label,
        record.model,
        record.tokens_in,
        record.tokens_out,
        record.finish_reason,
        record.is_partial,
        record.error,
        record.cost_micro_usd,
    ) == ("OpenRouter", "gpt-4o-mini-2024-07-18", 1000, 500, "length", False, "", GPT_4O_MINI_1000_IN_500_OUT)
    assert 0 <= record.first_token_ms <= record.latency_ms
    assert tally.usage() == TokenUsage(prompt_tokens=1000, completion_tokens=500)


def test_the_record_is_made_once_so_what_is_stored_and_what_is_reported_agree():
    tally = _tally(_answered(), TokenDelta("Aye."), StreamFinished("stop", None, "gpt-4o-mini"))

    assert tally.record() is tally.record()
    assert tally.usage() is tally.usage()


@pytest.mark.parametrize(
    "usage",
    [None, TokenUsage(prompt_tokens=0, completion_tokens=0)],
    ids=["no usage sent", "an all-zero placeholder"],
)
def test_tokens_the_provider_did_not_count_are_counted_by_us(usage):
    tally = _tally(
        _answered(), TokenDelta("The fog "), TokenDelta("lifts."), StreamFinished("stop", usage, "")
    )

    record = tally.record()

    assert (record.tokens_in, record.tokens_out) == (
        count_message_tokens(PROMPT),
        count_tokens("The fog lifts."),
    )
    assert tally.usage().estimated is True
    assert record.model == "openai/gpt-4o-mini"  # the provider named none: the connection's


def test_a_count_the_provider_gave_for_one_side_only_is_completed_by_ours():
    tally = _tally(
        _answered(),
        TokenDelta("Aye."),
        StreamFinished("stop", TokenUsage(prompt_tokens=40, completion_tokens=0), ""),
    )

    assert (tally.record().tokens_in, tally.record().tokens_out) == (40, count_tokens("Aye."))


@pytest.mark.parametrize(
    ("base_url", "cost"),
    [
        (OPENROUTER, GPT_4O_MINI_1000_IN_500_OUT),
        ("http://127.0.0.1:8080/v1", 0),
        ("http://llama.lan:11434/v1", 0),
        (None, 0),
    ],
    ids=["a hosted provider", "this machine", "the local network", "the offline demo"],
)
def test_the_cost_is_that_of_the_connection_that_answered(base_url, cost):
    tally = _tally(
        _answered(base_url=base_url, model="gpt-4o-mini"),
        TokenDelta("Aye."),
        StreamFinished("stop", TokenUsage(prompt_tokens=1000, completion_tokens=500), "gpt-4o-mini"),
    )

    assert tally.record().cost_micro_usd == cost


def test_a_stopped_reply_is_partial_and_its_text_is_counted():
    tally = _tally(_answered(), TokenDelta("By noon"))
    tally.stopped()

    record = tally.record()

    assert (record.finish_reason, record.is_partial, record.error) == ("stopped", True, "")
    assert (record.tokens_in, record.tokens_out) == (count_message_tokens(PROMPT), count_tokens("By noon"))


def test_a_reply_stopped_before_any_connection_answered_is_partial_and_costs_nothing():
    tally = _tally()
    tally.stopped()

    record = tally.record()

    assert (tally.answered, record.connection_label, record.finish_reason, record.is_partial) == (
        False,
        "",
        "stopped",
        True,
    )
    assert (record.first_token_ms, record.tokens_out, record.cost_micro_usd) == (None, 0, 0)


def test_a_reply_that_broke_off_keeps_its_text_and_at_most_500_characters_of_the_reason():
    reason = "OpenRouter: the connection dropped " + "x" * 600
    tally = _tally(_answered(), TokenDelta("By noon, "))
    tally.broke(reason)

    record = tally.record()

    assert tally.text == "By noon, "
    assert (record.finish_reason, record.is_partial, record.error) == ("error", True, reason[:500])
    assert tally.error == reason  # the whole reason, for the user's error event
    assert record.tokens_out == count_tokens("By noon, ")


def test_when_no_connection_answered_the_record_holds_only_the_reason():
    reason = "No connection answered. " + "OpenRouter: rate limited (429). " * 30
    tally = _tally()
    tally.unanswered(reason)

    assert tally.answered is False
    assert tally.record() == GenerationRecord(error=reason[:500])


# ---------------------------------------------------------------- settling (real PostgreSQL and Redis)


@pytest.mark.django_db(transaction=True)
async def test_settling_stores_the_record_then_spends_its_tokens_once():
    user = await sync_to_async(UserFactory)()
    tally = _tally(
        _answered(),
        TokenDelta("Aye."),
        StreamFinished("stop", TokenUsage(prompt_tokens=1000, completion_tokens=500), "gpt-4o-mini"),
    )
    stored: list[GenerationRecord] = []

    async def store(record: GenerationRecord) -> str:
        stored.append(record)
        await sync_to_async(usage_record)(user=user, chat=None, generation=record, kind="openai_api")
        return "stored"

    result = await reply_settle(tally, user_id=user.pk, store=store)
    with pytest.raises(RuntimeError, match="settled once"):
        await reply_settle(tally, user_id=user.pk, store=store)

    assert (result, stored) == ("stored", [tally.record()])
    row = await UsageRecord.objects.aget(user=user)
    assert (row.kind, row.tokens_in, row.tokens_out, row.cost_micro_usd) == (
        "openai_api",
        1000,
        500,
        GPT_4O_MINI_1000_IN_500_OUT,
    )
    assert await sync_to_async(tokens_spent_today)(user.pk) == 1500
