"""The reply stream's server-sent events, however the bytes arrive."""

from __future__ import annotations

import pytest

from tavern.ai.chat.sse import SSEDecoder

STREAM = (
    b": keep-alive\n\n"
    b'data: {"a": 1}\n\n'
    b"event: message\r\n"
    b'data: {"b":\r\n'
    b"data: 2}\r\n\r\n"
    b'id: 7\rdata: {"c": 3}\r\r'
    b"data: [DONE]\n\n"
)
EVENTS = [b'{"a": 1}', b'{"b":\n2}', b'{"c": 3}', b"[DONE]"]


def _decode(pieces: list[bytes]) -> list[bytes]:
    decoder = SSEDecoder()
    events: list[bytes] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    events.extend(decoder.end())
    return events


def test_every_line_ending_and_field_as_one_piece() -> None:
    assert _decode([STREAM]) == EVENTS


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_any_split_of_the_bytes_gives_the_same_events(size: int) -> None:
    pieces = [STREAM[start : start + size] for start in range(0, len(STREAM), size)]
    assert _decode(pieces) == EVENTS


def test_a_crlf_split_between_two_reads_is_one_line_end() -> None:
    assert _decode([b'data: {"a": 1}\r', b"\n\r", b"\n"]) == [b'{"a": 1}']


def test_a_last_event_without_its_blank_line_still_counts() -> None:
    assert _decode([b'data: {"a": 1}\n\ndata: {"b": 2}']) == [b'{"a": 1}', b'{"b": 2}']


def test_data_without_a_space_after_the_colon() -> None:
    assert _decode([b'data:{"a": 1}\n\n']) == [b'{"a": 1}']


def test_an_event_without_data_is_no_event() -> None:
    assert _decode([b"event: ping\n\n: comment\n\n"]) == []
