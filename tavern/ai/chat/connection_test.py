"""The "test connection" button: is the endpoint there, is the key good, does the model answer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import openai

from tavern.ai.chat.config import ChatConnectionConfig, GenerationParams
from tavern.ai.chat.errors import ChatProviderError, request_failure
from tavern.ai.chat.stream import chat_client, complete_chat

PROBE_MESSAGES = ({"role": "user", "content": "Reply with the single word: OK"},)
_MAX_MODELS_NAMED = 5


@dataclass(frozen=True)
class ConnectionTestResult:
    """`message` is for the user; `models` is what GET /models listed (empty when it lists none)."""

    ok: bool
    message: str
    latency_ms: int | None = None
    models: tuple[str, ...] = field(default_factory=tuple)


async def connection_test(config: ChatConnectionConfig) -> ConnectionTestResult:
    """List the models (when the server can) and ask the model for one token.

    No retries: a person is waiting on the button, and the first failure is
    the answer they need.
    """
    config = replace(config, max_retries=0)
    models: tuple[str, ...] = ()
    async with chat_client(config) as client:
        try:
            listing = await client.models.list()
            models = tuple(sorted(model.id for model in listing.data))
        except (openai.AuthenticationError, openai.APIConnectionError) as error:
            # The completion would fail the same way; say so now.
            return ConnectionTestResult(ok=False, message=request_failure(config, error).message)
        except openai.OpenAIError:
            pass  # Many servers (and some proxies) have no model list; the completion decides.

    started = time.monotonic()
    try:
        result = await complete_chat(config, PROBE_MESSAGES, GenerationParams(max_tokens=1))
    except ChatProviderError as error:
        return ConnectionTestResult(ok=False, message=error.message, models=models)
    latency_ms = round((time.monotonic() - started) * 1000)

    message = f"{config.label}: the model '{result.model}' answered in {latency_ms} ms."
    if models and config.model not in models:
        named = ", ".join(f"'{model}'" for model in models[:_MAX_MODELS_NAMED])
        more = f" and {len(models) - _MAX_MODELS_NAMED} more" if len(models) > _MAX_MODELS_NAMED else ""
        message += f" Note: '{config.model}' is not in the server's model list ({named}{more})."
    return ConnectionTestResult(ok=True, message=message, latency_ms=latency_ms, models=models)
