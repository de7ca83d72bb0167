"""Embeddings: the real local model, and the OpenAI provider against a local wire server.

No database: these run with or without pytest-django.
"""

import math

import openai
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tavern.ai.embeddings import (
    EMBEDDING_DIMENSIONS,
    LocalMiniLMProvider,
    OpenAIEmbeddingProvider,
    embed_texts,
    get_embedding_provider,
)
from tavern.ai.tokenizer import count_tokens
from tavern.testing.openai_wire_payloads import text_embedding
from tavern.testing.openai_wire_server import EMBEDDINGS_PATH, OpenAIWireServer


def _dot(left: list[float], right: list[float]) -> float:
    return math.fsum(a * b for a, b in zip(left, right, strict=True))


@pytest.fixture(scope="module")
def local_provider():
    return get_embedding_provider({"provider": "local"})


@pytest.fixture
def wire_server():
    with OpenAIWireServer() as server:
        yield server


def _openai_config(server: OpenAIWireServer, **overrides: object) -> dict[str, object]:
    return {
        "provider": "openai",
        "base_url": server.base_url,
        "api_key": "sk-test",
        "max_retries": 0,
        **overrides,
    }


def test_local_provider_gives_unit_vectors_of_384_dimensions(local_provider):
    vectors = embed_texts(["The tavern is warm tonight.", "A dragon sleeps."], provider=local_provider)

    assert len(vectors) == 2
    assert [len(vector) for vector in vectors] == [EMBEDDING_DIMENSIONS, EMBEDDING_DIMENSIONS]
    assert [_dot(vector, vector) for vector in vectors] == [
        pytest.approx(1.0, abs=1e-5),
        pytest.approx(1.0, abs=1e-5),
    ]


def test_local_provider_is_all_minilm_l6_v2(local_provider):
    # The first values sentence-transformers gives for this text with all-MiniLM-L6-v2.
    [vector] = embed_texts(["hello world"], provider=local_provider)

    assert vector[:5] == pytest.approx(
        [-0.03447727, 0.03102318, 0.00673497, 0.02610893, -0.03936203], abs=1e-4
    )


def test_local_provider_puts_similar_sentences_closer_than_unrelated_ones(local_provider):
    cat, kitten, taxes = embed_texts(
        [
            "A cat is sleeping on the warm windowsill.",
            "A kitten naps in the sun by the window.",
            "Corporate tax returns are due at the end of the quarter.",
        ],
        provider=local_provider,
    )

    assert _dot(cat, kitten) > 0.5
    assert _dot(cat, taxes) < 0.2


def test_local_provider_keeps_order_across_batches(local_provider):
    texts = [
        "Short.",
        "A somewhat longer sentence about a knight and his horse.",
        "Mid-length words here.",
        "x",
        "The longest of them all, about a bard who sang all night in the tavern by the sea.",
    ]
    batched = LocalMiniLMProvider(batch_size=2)

    together = embed_texts(texts, provider=batched)
    one_by_one = [embed_texts([text], provider=local_provider)[0] for text in texts]

    for vector, alone in zip(together, one_by_one, strict=True):
        assert vector == pytest.approx(alone, abs=1e-5)


def test_local_provider_embeds_text_longer_than_the_model_reads(local_provider):
    [vector] = embed_texts(["word " * 400], provider=local_provider)

    assert len(vector) == EMBEDDING_DIMENSIONS


def test_embedding_no_texts_gives_no_vectors(local_provider):
    assert embed_texts([], provider=local_provider) == []


def test_blank_texts_are_refused_by_position(local_provider):
    with pytest.raises(ValueError, match=r"\[1, 2\]"):
        embed_texts(["fine", "", "   "], provider=local_provider)


def test_default_provider_is_the_local_model():
    assert get_embedding_provider({}) is get_embedding_provider({"provider": "local"})
    assert get_embedding_provider({}).name == "local"


def test_settings_choose_the_provider(wire_server):
    if not settings.configured:
        settings.configure()

    with override_settings(TAVERN_EMBEDDINGS=_openai_config(wire_server)):
        provider = get_embedding_provider()

    assert isinstance(provider, OpenAIEmbeddingProvider)
    assert provider.config.base_url == wire_server.base_url


def test_absent_setting_means_the_local_model():
    if not settings.configured:
        settings.configure()

    with override_settings():
        del settings.TAVERN_EMBEDDINGS
        provider = get_embedding_provider()

    assert provider.name == "local"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"provider": "cohere"}, "'cohere'"),
        ({"provider": "openai", "base_ur": "http://x"}, "base_ur"),
        ({"provider": "openai", "batch_size": 0}, "batch_size"),
    ],
    ids=["unknown provider", "misspelt key", "batch size zero"],
)
def test_bad_configuration_is_refused(config, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        get_embedding_provider(config)


def test_openai_provider_is_shared_per_configuration(wire_server):
    config = _openai_config(wire_server)

    assert get_embedding_provider(config) is get_embedding_provider(dict(config))
    assert get_embedding_provider(config) is not get_embedding_provider({**config, "model": "other"})


def test_openai_provider_asks_for_384_dimensions_of_text_embedding_3_small(wire_server):
    provider = get_embedding_provider(_openai_config(wire_server))

    vectors = embed_texts(["A dragon sleeps.", "The tavern is warm."], provider=provider)

    [request] = wire_server.requests_to(EMBEDDINGS_PATH)
    assert request.body == {
        "model": "text-embedding-3-small",
        "input": ["A dragon sleeps.", "The tavern is warm."],
        "dimensions": 384,
        "encoding_format": "float",
    }
    assert request.headers["authorization"] == "Bearer sk-test"
    assert vectors == [
        pytest.approx(text_embedding("A dragon sleeps.", 384)),
        pytest.approx(text_embedding("The tavern is warm.", 384)),
    ]
    assert [len(vector) for vector in vectors] == [384, 384]
    assert [_dot(vector, vector) for vector in vectors] == [pytest.approx(1.0), pytest.approx(1.0)]


def test_openai_provider_sends_batches_and_keeps_order(wire_server):
    texts = [f"memory number {index}" for index in range(5)]
    provider = get_embedding_provider(_openai_config(wire_server, batch_size=2))

    vectors = embed_texts(texts, provider=provider)

    sent = [request.body["input"] for request in wire_server.requests_to(EMBEDDINGS_PATH)]
    assert sent == [texts[0:2], texts[2:4], texts[4:5]]
    assert vectors == [pytest.approx(text_embedding(text, 384)) for text in texts]


def test_openai_provider_cuts_inputs_to_the_model_limit(wire_server):
    provider = get_embedding_provider(_openai_config(wire_server))

    embed_texts(["word " * 9000], provider=provider)

    [request] = wire_server.requests_to(EMBEDDINGS_PATH)
    assert count_tokens(request.body["input"][0], encoding="cl100k_base") == 8191


def test_openai_provider_raises_the_provider_error(wire_server):
    wire_server.script_embeddings_error(500)
    provider = get_embedding_provider(_openai_config(wire_server))

    with pytest.raises(openai.InternalServerError):
        embed_texts(["A dragon sleeps."], provider=provider)


def test_openai_provider_with_a_wrong_key_is_refused():
    with OpenAIWireServer(api_key="sk-right") as server:
        provider = get_embedding_provider(_openai_config(server, api_key="sk-wrong"))

        with pytest.raises(openai.AuthenticationError):
            embed_texts(["A dragon sleeps."], provider=provider)
