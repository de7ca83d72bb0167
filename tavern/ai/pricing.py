"""What a completion cost, in integer micro-dollars (no floats in stored money).

Prices are list prices in micro-USD per million tokens (so $2.50 per million is
2_500_000), as the providers published them in 2025 for text input and output,
without cache discounts. A model id matches exactly, then without a provider
prefix (`openai/gpt-4o` is `gpt-4o`), then by the longest known prefix that ends
at a `-` (`gpt-4o-2024-08-06` is `gpt-4o`). Unknown models, models served from
the user's own machine or network, and OpenRouter's `:free` variants cost 0:
we never charge for what we cannot price.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

MICRO_USD_PER_USD = 1_000_000
TOKENS_PER_MILLION = 1_000_000


@dataclass(frozen=True)
class ModelPrice:
    """Micro-USD per million tokens: $2.50 per million tokens is 2_500_000."""

    input_per_million: int
    output_per_million: int


FREE = ModelPrice(0, 0)

MODEL_PRICES: dict[str, ModelPrice] = {
    # OpenAI
    "gpt-4o": ModelPrice(2_500_000, 10_000_000),
    "gpt-4o-mini": ModelPrice(150_000, 600_000),
    "chatgpt-4o-latest": ModelPrice(5_000_000, 15_000_000),
    "gpt-4.1": ModelPrice(2_000_000, 8_000_000),
    "gpt-4.1-mini": ModelPrice(400_000, 1_600_000),
    "gpt-4.1-nano": ModelPrice(100_000, 400_000),
    "gpt-4-turbo": ModelPrice(10_000_000, 30_000_000),
    "gpt-4": ModelPrice(30_000_000, 60_000_000),
    "gpt-3.5-turbo": ModelPrice(500_000, 1_500_000),
    "gpt-5": ModelPrice(1_250_000, 10_000_000),
    "gpt-5-mini": ModelPrice(250_000, 2_000_000),
    "gpt-5-nano": ModelPrice(50_000, 400_000),
    "o1": ModelPrice(15_000_000, 60_000_000),
    "o1-mini": ModelPrice(1_100_000, 4_400_000),
    "o1-pro": ModelPrice(150_000_000, 600_000_000),
    "o3": ModelPrice(2_000_000, 8_000_000),
    "o3-mini": ModelPrice(1_100_000, 4_400_000),
    "o3-pro": ModelPrice(20_000_000, 80_000_000),
    "o4-mini": ModelPrice(1_100_000, 4_400_000),
    # DeepSeek (cache-miss input)
    "deepseek-chat": ModelPrice(270_000, 1_100_000),
    "deepseek-reasoner": ModelPrice(550_000, 2_190_000),
    # Anthropic, through its OpenAI-compatible endpoint or OpenRouter
    "claude-3-haiku": ModelPrice(250_000, 1_250_000),
    "claude-3-opus": ModelPrice(15_000_000, 75_000_000),
    "claude-3-5-haiku": ModelPrice(800_000, 4_000_000),
    "claude-3-5-sonnet": ModelPrice(3_000_000, 15_000_000),
    "claude-3-7-sonnet": ModelPrice(3_000_000, 15_000_000),
    "claude-sonnet-4": ModelPrice(3_000_000, 15_000_000),
    "claude-sonnet-4-5": ModelPrice(3_000_000, 15_000_000),
    "claude-opus-4": ModelPrice(15_000_000, 75_000_000),
    "claude-opus-4-1": ModelPrice(15_000_000, 75_000_000),
    "claude-opus-4-5": ModelPrice(5_000_000, 25_000_000),
    # Google, through its OpenAI-compatible endpoint or OpenRouter (prompts up to 200k tokens)
    "gemini-1.5-flash": ModelPrice(75_000, 300_000),
    "gemini-1.5-pro": ModelPrice(1_250_000, 5_000_000),
    "gemini-2.0-flash": ModelPrice(100_000, 400_000),
    "gemini-2.0-flash-lite": ModelPrice(75_000, 300_000),
    "gemini-2.5-flash": ModelPrice(300_000, 2_500_000),
    "gemini-2.5-flash-lite": ModelPrice(100_000, 400_000),
    "gemini-2.5-pro": ModelPrice(1_250_000, 10_000_000),
    # Open-weight models as OpenRouter lists them (its price varies with the upstream host)
    "meta-llama/llama-3.1-8b-instruct": ModelPrice(20_000, 50_000),
    "meta-llama/llama-3.1-70b-instruct": ModelPrice(120_000, 300_000),
    "meta-llama/llama-3.1-405b-instruct": ModelPrice(800_000, 800_000),
    "meta-llama/llama-3.3-70b-instruct": ModelPrice(130_000, 400_000),
    "mistralai/mistral-large": ModelPrice(2_000_000, 6_000_000),
}

# Other spellings of the same models (OpenRouter writes Claude versions with a dot).
MODEL_ALIASES: dict[str, str] = {
    "claude-3.5-sonnet": "claude-3-5-sonnet",
    "claude-3.5-haiku": "claude-3-5-haiku",
    "claude-3.7-sonnet": "claude-3-7-sonnet",
    "claude-sonnet-4.5": "claude-sonnet-4-5",
    "claude-opus-4.1": "claude-opus-4-1",
    "claude-opus-4.5": "claude-opus-4-5",
    "deepseek-r1": "deepseek-reasoner",
    "deepseek-v3": "deepseek-chat",
    "mistral-large-latest": "mistralai/mistral-large",
}

# Longest first, so that `gpt-4o-mini-2024-07-18` is gpt-4o-mini and not gpt-4o.
_PREFIXES = sorted([*MODEL_PRICES, *MODEL_ALIASES], key=len, reverse=True)
_LOCAL_HOST_SUFFIXES = (".local", ".localhost", ".internal", ".lan")


def model_price(model: str) -> ModelPrice | None:
    """The list price of `model`, or None when we do not know it."""
    key = model.strip().lower()
    if ":" in key:
        # OpenRouter's variants (`:free`, `:nitro`, `:beta`) and Ollama's tags (`llama3.1:70b`).
        key, variant = key.split(":", 1)
        if variant == "free":
            return FREE
    candidates = [key]
    if "/" in key:
        candidates.append(key.rsplit("/", 1)[1])
    for candidate in candidates:
        price = _exact_price(candidate)
        if price is not None:
            return price
    for candidate in candidates:
        for prefix in _PREFIXES:
            if candidate.startswith(prefix) and candidate[len(prefix) : len(prefix) + 1] in ("", "-", "@"):
                return _exact_price(prefix)
    return None


def usage_cost_micro_usd(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    *,
    base_url: str | None = None,
) -> int:
    """The cost of one completion in micro-USD, rounded half up; 0 for unknown or local models.

    Pass the connection's `base_url`: a model served from localhost or a private
    network (vLLM, llama.cpp, Ollama) costs nothing even when its id is the one
    OpenRouter prices (vLLM serves `meta-llama/Llama-3.1-70B-Instruct` by that name).
    """
    if prompt_tokens < 0 or completion_tokens < 0:
        raise ValueError("token counts must not be negative")
    if base_url is not None and is_local_endpoint(base_url):
        return 0
    price = model_price(model)
    if price is None:
        return 0
    cost_times_million = (
        prompt_tokens * price.input_per_million + completion_tokens * price.output_per_million
    )
    return (cost_times_million + TOKENS_PER_MILLION // 2) // TOKENS_PER_MILLION


def is_local_endpoint(base_url: str) -> bool:
    """Whether `base_url` is on this machine or a private network (so the user pays nobody)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(_LOCAL_HOST_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _exact_price(key: str) -> ModelPrice | None:
    return MODEL_PRICES.get(MODEL_ALIASES.get(key, key))
