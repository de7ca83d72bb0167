"""Cost of a completion in integer micro-dollars."""

import pytest

from tavern.ai.pricing import ModelPrice, is_local_endpoint, model_price, usage_cost_micro_usd


@pytest.mark.parametrize(
    ("model", "prompt_tokens", "completion_tokens", "cost"),
    [
        ("gpt-4o", 1_000, 500, 7_500),  # 1,000 x $2.50/M + 500 x $10/M = $0.0075
        ("gpt-4o-mini", 1_000_000, 1_000_000, 750_000),
        ("gpt-4.1", 10_000, 1_000, 28_000),
        ("gpt-4.1-mini", 10_000, 1_000, 5_600),
        ("o3-mini", 2_000, 3_000, 15_400),
        ("deepseek-chat", 100_000, 10_000, 38_000),
        ("deepseek-reasoner", 100_000, 10_000, 76_900),
        ("claude-3-5-sonnet", 1_000, 1_000, 18_000),
        ("claude-sonnet-4", 1_000, 1_000, 18_000),
        ("gemini-2.0-flash", 1_000_000, 0, 100_000),
        ("meta-llama/llama-3.1-70b-instruct", 1_000_000, 1_000_000, 420_000),
    ],
    ids=lambda value: str(value),
)
def test_cost_of_known_models(model, prompt_tokens, completion_tokens, cost):
    assert usage_cost_micro_usd(model, prompt_tokens, completion_tokens) == cost


@pytest.mark.parametrize(
    ("model", "same_as"),
    [
        ("openai/gpt-4o", "gpt-4o"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("GPT-4o-Mini", "gpt-4o-mini"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("gpt-4-0613", "gpt-4"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("anthropic/claude-sonnet-4", "claude-sonnet-4"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("google/gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("google/gemini-2.0-flash-lite-001", "gemini-2.0-flash-lite"),
        ("deepseek/deepseek-chat", "deepseek-chat"),
        ("deepseek/deepseek-r1", "deepseek-reasoner"),
        ("meta-llama/llama-3.1-70b-instruct:nitro", "meta-llama/llama-3.1-70b-instruct"),
    ],
)
def test_ids_match_after_a_provider_prefix_a_date_or_a_variant(model, same_as):
    assert model_price(model) == model_price(same_as)
    assert model_price(model) is not None


@pytest.mark.parametrize(
    "model",
    [
        "my-finetune",
        "llama3.1:70b",
        "offline-demo",
        "gpt-4omega",
        "meta-llama/llama-3.1-70b-instruct:free",
        "",
    ],
    ids=["unknown", "ollama-tag", "offline-demo", "prefix-without-boundary", "openrouter-free", "empty"],
)
def test_unknown_and_free_models_cost_nothing(model):
    assert usage_cost_micro_usd(model, 1_000_000, 1_000_000) == 0


def test_free_variant_has_a_zero_price():
    assert model_price("meta-llama/llama-3.1-70b-instruct:free") == ModelPrice(0, 0)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080/v1",
        "http://localhost:11434/v1",
        "http://192.168.1.20:5001/v1",
        "http://10.0.0.5:8000/v1",
        "http://[::1]:1234/v1",
        "http://gpu-box.local:8000/v1",
    ],
)
def test_a_model_served_locally_costs_nothing_whatever_its_name(base_url):
    assert is_local_endpoint(base_url) is True
    assert (
        usage_cost_micro_usd("meta-llama/llama-3.1-70b-instruct", 1_000_000, 1_000_000, base_url=base_url)
        == 0
    )


def test_a_hosted_endpoint_is_charged():
    assert is_local_endpoint("https://openrouter.ai/api/v1") is False
    assert usage_cost_micro_usd("gpt-4o", 1_000, 500, base_url="https://openrouter.ai/api/v1") == 7_500


@pytest.mark.parametrize(
    ("prompt_tokens", "cost"),
    [(3, 0), (4, 1), (10, 2)],
    ids=["0.45-rounds-down", "0.6-rounds-up", "1.5-rounds-half-up"],
)
def test_cost_is_rounded_to_whole_micro_dollars(prompt_tokens, cost):
    # gpt-4o-mini input is 0.15 micro-USD per token.
    assert usage_cost_micro_usd("gpt-4o-mini", prompt_tokens, 0) == cost


def test_cost_is_an_int():
    assert type(usage_cost_micro_usd("gpt-4o", 123_457, 98_765)) is int


def test_negative_tokens_are_refused():
    with pytest.raises(ValueError, match="negative"):
        usage_cost_micro_usd("gpt-4o", -1, 0)
