import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tavern.ai.tokenizer import (
    UnknownEncodingError,
    count_message_tokens,
    count_tokens,
    decode_tokens,
    encode_tokens,
    fits_in_tokens,
    truncate_to_tokens,
)

# The example conversation of OpenAI's cookbook "How to count tokens with tiktoken",
# whose prompt the API counts as 129 tokens for gpt-3.5-turbo / gpt-4 (cl100k_base)
# and 124 for gpt-4o / gpt-4o-mini (o200k_base).
COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates "
        "corporate jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on "
        "opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]


@pytest.mark.parametrize(
    ("encoding", "expected_ids"),
    [("o200k_base", [24912, 2375]), ("cl100k_base", [15339, 1917])],
    ids=["o200k_base", "cl100k_base"],
)
def test_encode_gives_tiktoken_ids(encoding, expected_ids):
    assert encode_tokens("hello world", encoding=encoding) == expected_ids
    assert count_tokens("hello world", encoding=encoding) == 2
    assert decode_tokens(expected_ids, encoding=encoding) == "hello world"


def test_count_tokens_of_empty_text_is_zero():
    assert count_tokens("") == 0


def test_special_token_text_counts_as_plain_text():
    # A user typing "<|endoftext|>" must not end the prompt early, nor crash the count.
    assert count_tokens("<|endoftext|>") == 7


def test_unknown_encoding_is_refused():
    with pytest.raises(UnknownEncodingError, match="p50k_base"):
        count_tokens("hello", encoding="p50k_base")


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("o200k_base", 124), ("cl100k_base", 129)],
    ids=["gpt-4o", "gpt-4"],
)
def test_count_message_tokens_matches_openai_cookbook(encoding, expected):
    assert count_message_tokens(COOKBOOK_MESSAGES, encoding=encoding) == expected


def test_count_message_tokens_adds_one_token_for_a_name():
    unnamed = [{"role": "user", "content": "Hi"}]
    named = [{"role": "user", "name": "Alice", "content": "Hi"}]

    assert count_message_tokens(unnamed) == 3 + 1 + 1 + 3
    assert count_message_tokens(named) == count_message_tokens(unnamed) + 1 + 1


def test_count_message_tokens_counts_only_text_parts_of_multimodal_content():
    parts = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]

    count = count_message_tokens([{"role": "user", "content": parts}])

    assert count == 3 + count_tokens("user") + count_tokens("What is in this picture?") + 3


def test_count_message_tokens_of_no_messages_is_the_reply_primer():
    assert count_message_tokens([]) == 3


def test_fits_in_tokens_at_the_limit_and_past_it():
    assert fits_in_tokens("hello world", 2) is True
    assert fits_in_tokens("hello world", 1) is False
    assert fits_in_tokens("", 0) is True


def test_truncate_keeps_text_that_fits():
    assert truncate_to_tokens("hello world", 2) == "hello world"


def test_truncate_keeps_the_start():
    assert truncate_to_tokens("hello world, how are you", 3) == "hello world,"


def test_truncate_keeps_the_end_when_asked():
    assert truncate_to_tokens("hello world, how are you", 3, keep_end=True) == " how are you"


def test_truncate_to_zero_tokens_is_empty():
    assert truncate_to_tokens("hello world", 0) == ""


def test_truncate_drops_a_character_rather_than_split_it():
    # Each of these hieroglyphs takes 4 byte-level tokens in o200k_base.
    text = "\U00013000\U00013001\U00013002"

    assert truncate_to_tokens(text, 5) == "\U00013000"
    assert truncate_to_tokens(text, 5, keep_end=True) == "\U00013002"


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), max_tokens=st.integers(min_value=0, max_value=60))
def test_truncate_is_a_prefix_within_budget(text, max_tokens):
    truncated = truncate_to_tokens(text, max_tokens)

    assert text.startswith(truncated)
    assert count_tokens(truncated) <= max_tokens


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), max_tokens=st.integers(min_value=0, max_value=60))
def test_truncate_keeping_the_end_is_a_suffix_within_budget(text, max_tokens):
    truncated = truncate_to_tokens(text, max_tokens, keep_end=True)

    assert text.endswith(truncated)
    assert count_tokens(truncated) <= max_tokens
