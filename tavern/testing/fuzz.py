"""Hypothesis strategies for fuzzing what users upload: a valid file, bent in the ways a
broken export, a truncated download or an attacker bends it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Bounded and seeded: the same cases on every run, in a time a busy laptop can spare.
UPLOAD_FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from(["\x00", "\ufeff", "\u202e", "💀", "林"]), max_size=40
)


def json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | _TEXT
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=5) | st.dictionaries(_TEXT, children, max_size=5),
        max_leaves=max_leaves,
    )


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few random changes: bytes flipped, inserted or cut, a tail lost."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        change = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]))
        if change == "flip":
            data[where] ^= draw(st.integers(1, 255))
        elif change == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif change == "delete":
            del data[where : where + draw(st.integers(1, 16))]
        elif change == "truncate":
            del data[where:]
        else:
            data[where:where] = data[where : where + draw(st.integers(1, 64))] * draw(st.integers(2, 8))
    return bytes(data)


def upload_bytes(seed: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, the seed bent, or any JSON at all."""
    return st.one_of(
        st.binary(max_size=512),
        mutated(seed),
        json_values().map(
            lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
        ),
    )
