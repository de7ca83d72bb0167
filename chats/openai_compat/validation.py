"""The body of `POST /v1/chat/completions`, checked field by field.

Every refusal is a 400 whose `param` names the field (`messages[2].content`),
as OpenAI's own API does. Fields this API has no use for (`user`, `tools`,
`response_format`, ...) are ignored rather than refused, so that clients which
always send them keep working.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from .errors import invalid

ROLES = ("system", "user", "assistant")
# Newer OpenAI clients send the system prompt as "developer"; it means the same here.
ROLE_ALIASES = {"developer": "system"}
MAX_STOP_SEQUENCES = 4
MAX_MESSAGES = 2000
_INT64 = 2**63


@dataclass(frozen=True)
class ClientMessage:
    role: str  # system, user or assistant
    content: str
    name: str = ""


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    messages: tuple[ClientMessage, ...]
    stream: bool = False
    include_usage: bool = False
    temperature: float | None = None
    top_p: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None

    @property
    def last_user_text(self) -> str:
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def completion_request_parse(body: bytes) -> CompletionRequest:
    try:
        data = json.loads(body or b"", parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid(
            "We could not parse the JSON body of your request. Send a JSON object "
            "(Content-Type: application/json).",
            code="invalid_json",
        ) from error
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.", code="invalid_json")
    return _Fields(data).request()


class _Fields:
    """Reads one body; an absent field and an explicit null are the same (clients send both)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def request(self) -> CompletionRequest:
        model, messages = self.model(), self.messages()
        stream = self.boolean("stream") or False
        include_usage = False
        options = self.data.get("stream_options")
        if options is not None:
            if not isinstance(options, dict):
                raise invalid("stream_options must be an object.", param="stream_options")
            if not stream:
                raise invalid(
                    "stream_options is only allowed when stream is true.",
                    param="stream_options",
                )
            include_usage = options.get("include_usage")
            if include_usage is None:
                include_usage = False
            elif not isinstance(include_usage, bool):
                raise invalid(
                    "stream_options.include_usage must be a boolean.",
                    param="stream_options.include_usage",
                )
        n = self.integer("n", minimum=1)
        if n not in (None, 1):
            raise invalid("Only one choice is generated per request: n must be 1.", param="n")
        max_tokens = self.integer("max_completion_tokens", minimum=1)
        if max_tokens is None:
            max_tokens = self.integer("max_tokens", minimum=1)
        return CompletionRequest(
            model=model,
            messages=messages,
            stream=stream,
            include_usage=include_usage,
            temperature=self.number("temperature", 0, 2),
            top_p=self.number("top_p", 0, 1),
            presence_penalty=self.number("presence_penalty", -2, 2),
            frequency_penalty=self.number("frequency_penalty", -2, 2),
            max_tokens=max_tokens,
            stop=self.stop(),
            seed=self.integer("seed", minimum=-_INT64, maximum=_INT64 - 1),
        )

    def model(self) -> str:
        model = self.data.get("model")
        if model is None:
            raise invalid(
                "You must provide a model parameter: the slug of one of your characters.", param="model"
            )
        if not isinstance(model, str) or not model.strip():
            raise invalid(
                "model must be a non-empty string: the slug of one of your characters.", param="model"
            )
        return model.strip()

    def messages(self) -> tuple[ClientMessage, ...]:
        messages = self.data.get("messages")
        if messages is None:
            raise invalid("You must provide a messages parameter.", param="messages")
        if not isinstance(messages, list):
            raise invalid("messages must be an array of message objects.", param="messages")
        if not messages:
            raise invalid("messages must contain at least one message.", param="messages")
        if len(messages) > MAX_MESSAGES:
            raise invalid(f"messages may hold at most {MAX_MESSAGES} messages.", param="messages")
        return tuple(_message(item, f"messages[{index}]") for index, item in enumerate(messages))

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is not None and not isinstance(value, bool):
            raise invalid(f"{name} must be a boolean.", param=name)
        return value

    def number(self, name: str, minimum: float, maximum: float) -> float | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise invalid(f"{name} must be a number.", param=name)
        if not minimum <= value <= maximum:
            raise invalid(f"{name} must be between {minimum} and {maximum}; got {value}.", param=name)
        return float(value)

    def integer(self, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{name} must be an integer.", param=name)
        if value < minimum or (maximum is not None and value > maximum):
            limit = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise invalid(f"{name} must be {limit}; got {value}.", param=name)
        return value

    def stop(self) -> tuple[str, ...] | None:
        value = self.data.get("stop")
        if value is None:
            return None
        if isinstance(value, str):
            return (value,) if value else None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid("stop must be a string or an array of strings.", param="stop")
        if len(value) > MAX_STOP_SEQUENCES:
            raise invalid(f"stop may hold at most {MAX_STOP_SEQUENCES} sequences.", param="stop")
        return tuple(item for item in value if item) or None


def _message(item: Any, param: str) -> ClientMessage:
    if not isinstance(item, dict):
        raise invalid(f"{param} must be an object with a role and a content.", param=param)
    role = item.get("role")
    if not isinstance(role, str):
        raise invalid(f"{param}.role must be one of {', '.join(ROLES)}.", param=f"{param}.role")
    role = ROLE_ALIASES.get(role, role)
    if role not in ROLES:
        raise invalid(f"{param}.role must be one of {', '.join(ROLES)}; got '{role}'.", param=f"{param}.role")
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid(f"{param}.name must be a string.", param=f"{param}.name")
    return ClientMessage(
        role=role, content=_content(item.get("content"), f"{param}.content"), name=name or ""
    )


def _content(content: Any, param: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for index, part in enumerate(content):
            part_param = f"{param}[{index}]"
            if not isinstance(part, dict) or part.get("type") != "text":
                raise invalid(
                    f'{part_param} must be a text part ({{"type": "text", "text": ...}}); '
                    "characters read text only.",
                    param=part_param,
                )
            text = part.get("text")
            if not isinstance(text, str):
                raise invalid(f"{part_param}.text must be a string.", param=f"{part_param}.text")
            texts.append(text)
        return "\n".join(texts)
    if content is None:
        raise invalid(f"{param} is required.", param=param)
    raise invalid(f"{param} must be a string or an array of text parts.", param=param)
