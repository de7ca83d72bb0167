"""How big a chat's parts may be, whatever way they come in.

A message typed or edited (socket, REST, `/v1`), a SillyTavern chat file imported (API,
page, background job, the operator's `import_sillytavern` command) and a preset made
or imported all end in the services, which check what they store against this one
table. An import can never store a message the chat box would refuse.

Each check returns why a value is refused ("" when it is not); the service raises it
as a ChatError naming the input at fault (the field, or the uploaded `file`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings

MAX_MESSAGE_CHARS = 100_000
MAX_PARTICIPANTS = 12
# An imported message's swipes (stored in a smallint count; generation adds one at a time).
MAX_SWIPES = 1_000
# An imported message's `extra` (SillyTavern keeps reasoning and media references there).
MESSAGE_EXTRA_MAX_CHARS = 2 * MAX_MESSAGE_CHARS

PRESET_MAX_BYTES = settings.PRESET_MAX_BYTES  # the web server's body limits read it too
PRESET_MAX_STOP_STRINGS = 16
PRESET_STOP_MAX_CHARS = 1_000
# (lowest, highest) of each sampling setting, as the editor, the API and imports accept it.
PRESET_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0, 5),
    "top_p": (0, 1),
    "top_k": (0, 2**31 - 1),
    "min_p": (0, 1),
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
    "repetition_penalty": (0, 10),
    "max_tokens": (1, 200_000),
    "seed": (-(2**63), 2**63 - 1),
}


def chat_import_max_bytes() -> int:
    """A chat file's size (setting CHAT_IMPORT_MAX_BYTES)."""
    return int(settings.CHAT_IMPORT_MAX_BYTES)


def chat_import_max_messages() -> int:
    """Messages in one chat file (setting CHAT_IMPORT_MAX_MESSAGES)."""
    return int(settings.CHAT_IMPORT_MAX_MESSAGES)


def message_text_refusal(text: str) -> str:
    """Why a message's text is refused, as a phrase ("" when it is not)."""
    if len(text) > MAX_MESSAGE_CHARS:
        return f"the message is longer than {MAX_MESSAGE_CHARS:,} characters"
    return ""


def message_swipes_refusal(swipes: list[str]) -> str:
    """Why an imported message's swipes are refused, as a phrase ("" when they are not)."""
    if len(swipes) > MAX_SWIPES:
        return f"the message has more than {MAX_SWIPES:,} swipes"
    for number, text in enumerate(swipes, start=1):
        if len(text) > MAX_MESSAGE_CHARS:
            return f"swipe {number} is longer than {MAX_MESSAGE_CHARS:,} characters"
    return ""


def message_extra_refusal(extra: Mapping[str, Any]) -> str:
    if extra and len(json.dumps(extra, ensure_ascii=False)) > MESSAGE_EXTRA_MAX_CHARS:
        return f"the message's extra data is longer than {MESSAGE_EXTRA_MAX_CHARS:,} characters"
    return ""


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def preset_refusal(values: Mapping[str, Any]) -> tuple[str, str]:
    """(field, message) for the first preset setting out of its range, or ("", "")."""
    for name, (lowest, highest) in PRESET_RANGES.items():
        number = values.get(name)
        if number is not None and not lowest <= number <= highest:
            return (
                name,
                f"{name} must be between {_number(lowest)} and {_number(highest)} (got {_number(number)}).",
            )
    stop = values.get("stop") or []
    if len(stop) > PRESET_MAX_STOP_STRINGS:
        return "stop", f"A preset has at most {PRESET_MAX_STOP_STRINGS} stop strings."
    if any(len(text) > PRESET_STOP_MAX_CHARS for text in stop):
        return "stop", f"A stop string is at most {PRESET_STOP_MAX_CHARS:,} characters."
    return "", ""
