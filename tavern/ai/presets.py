"""Sampling settings from SillyTavern preset files.

Two shapes exist: chat-completion presets (presets/openai/*.json: `temperature`,
`openai_max_tokens`, `repetition_penalty`, ...) and text-completion presets
(presets/textgen/*.json: `temp`, `rep_pen`, `freq_pen`, `genamt`, ...). Both
are read; where a file has both spellings, the chat-completion one wins. Keys
we do not send (top_a, tfs, mirostat, DRY, prompt layout...) are ignored.

SillyTavern writes "off" as a value: top_k 0, min_p 0, repetition penalty 1,
seed -1. Those become None, so the request leaves them out: api.openai.com
refuses the non-standard samplers, and a random seed is the server's default.
Stopping strings keep their `{{user}}` macros for the prompt builder to fill.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from tavern.ai.chat.config import GenerationParams


class PresetError(ValueError):
    """A preset value has the wrong type or range; `key` names it as the file spells it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"'{key}' {problem}")
        self.key = key


# GenerationParams field -> preset keys, chat-completion spelling first.
_NUMBER_KEYS: dict[str, tuple[str, ...]] = {
    "temperature": ("temperature", "temp"),
    "top_p": ("top_p",),
    "min_p": ("min_p",),
    "frequency_penalty": ("frequency_penalty", "freq_pen"),
    "presence_penalty": ("presence_penalty", "presence_pen"),
    "repetition_penalty": ("repetition_penalty", "rep_pen"),
}
_INTEGER_KEYS: dict[str, tuple[str, ...]] = {
    "top_k": ("top_k",),
    "max_tokens": ("openai_max_tokens", "genamt"),
    "seed": ("seed",),
}
_STOP_KEYS = ("stopping_strings", "custom_stopping_strings")

# (lowest, highest) accepted; None is unbounded.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "temperature": (0, None),
    "top_p": (0, 1),
    "min_p": (0, 1),
    "frequency_penalty": (-2, 2),
    "presence_penalty": (-2, 2),
    "repetition_penalty": (0, None),
    "top_k": (0, None),
    "max_tokens": (1, None),
    "seed": (None, None),
}
# The value with which SillyTavern turns a sampler off.
_OFF_VALUES: dict[str, float] = {"top_k": 0, "min_p": 0, "repetition_penalty": 1}


def generation_params_from_sillytavern(preset_json: Mapping[str, Any]) -> GenerationParams:
    """GenerationParams from a SillyTavern chat-completion or text-completion preset (parsed JSON)."""
    if not isinstance(preset_json, Mapping):
        raise PresetError("preset", "must be a JSON object")
    values: dict[str, Any] = {}
    for name, keys in _NUMBER_KEYS.items():
        found = _first_present(preset_json, keys)
        if found is not None:
            values[name] = _number(name, *found)
    for name, keys in _INTEGER_KEYS.items():
        found = _first_present(preset_json, keys)
        if found is not None:
            values[name] = _integer(name, *found)
    for name, off in _OFF_VALUES.items():
        if values.get(name) == off:
            values[name] = None
    if values.get("seed") is not None and values["seed"] < 0:
        values["seed"] = None
    stop = _stopping_strings(preset_json)
    return GenerationParams(**values, stop=stop or None)


def _first_present(preset: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, Any] | None:
    for key in keys:
        if key in preset and preset[key] is not None:
            return key, preset[key]
    return None


def _number(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PresetError(key, f"must be a number, got {value!r}")
    _check_range(name, key, value)
    return float(value)


def _integer(name: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
        raise PresetError(key, f"must be a whole number, got {value!r}")
    _check_range(name, key, value)
    return int(value)


def _check_range(name: str, key: str, value: float) -> None:
    lowest, highest = _RANGES[name]
    if lowest is not None and value < lowest:
        raise PresetError(key, f"must be at least {lowest}, got {value!r}")
    if highest is not None and value > highest:
        raise PresetError(key, f"must be at most {highest}, got {value!r}")


def _stopping_strings(preset: Mapping[str, Any]) -> list[str]:
    """Both stop keys, merged in order without repeats; each a list or a JSON string of one."""
    stop: list[str] = []
    for key in _STOP_KEYS:
        value = preset.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            if not value.strip():
                continue
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise PresetError(key, "must be a list of strings or a JSON text of one") from None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise PresetError(key, "must be a list of strings or a JSON text of one")
        for item in value:
            if item and item not in stop:
                stop.append(item)
    return stop
