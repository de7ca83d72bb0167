"""Offline token counting with OpenAI's BPE encodings.

tiktoken downloads its tables on first use, which fails on a machine without
internet; `bpe-openai` ships the same tables inside its wheel and produces the
same token ids (checked in tests against values published for tiktoken).

We call its Rust tokenizer (`bpe_openai._bindings`, typed by the `.pyi` the
wheel ships) rather than its tiktoken-compatible `Encoding` wrapper: the wrapper
also builds a Python dict of every token on first use (~0.4 s, tens of MB) that
counting never needs, and it allocates a list of ids per call, which `count`
does not. The package is pinned, so this private-looking module is stable for us.

We also load that extension module without running `bpe_openai/__init__.py`,
which builds those Python dicts for every encoding at import time: loading it
directly saves ~0.35 s and ~65 MB in every process (web, each Celery worker).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bpe_openai._bindings import PyTokenizer

DEFAULT_ENCODING = "o200k_base"
SUPPORTED_ENCODINGS: frozenset[str] = frozenset({"o200k_base", "cl100k_base"})

# OpenAI's chat format wraps every message as <|start|>{role/name}\n{content}<|end|>\n
# and primes the reply with <|start|>assistant<|message|> (tiktoken cookbook,
# "How to count tokens with tiktoken", for gpt-3.5-turbo-0613 and later models).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMER = 3


class UnknownEncodingError(ValueError):
    """The encoding name is not one we ship tables for."""


_BINDINGS_MODULE = "bpe_openai._bindings"
_tokenizers: dict[str, PyTokenizer] = {}
_tokenizers_lock = threading.Lock()


def _load_bindings() -> ModuleType:
    """bpe-openai's Rust extension module, without importing its Python package."""
    loaded = sys.modules.get(_BINDINGS_MODULE)
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("bpe_openai")  # finds it without running it
    if package is None or not package.submodule_search_locations:
        raise ImportError("bpe-openai is not installed")
    package_dir = Path(next(iter(package.submodule_search_locations)))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        location = package_dir / f"_bindings{suffix}"
        if location.is_file():
            spec = importlib.util.spec_from_file_location(_BINDINGS_MODULE, location)
            if spec is None or spec.loader is None:
                break
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            # Registered so that a later `import bpe_openai` reuses it: PyO3 modules
            # can be initialised only once per process.
            sys.modules[_BINDINGS_MODULE] = module
            return module
    raise ImportError(f"bpe-openai's extension module is missing from {package_dir}")


def _tokenizer(encoding: str) -> PyTokenizer:
    """The tokenizer of `encoding`, built once per process (~30 ms, ~65 MB for o200k_base)."""
    tokenizer = _tokenizers.get(encoding)
    if tokenizer is not None:
        return tokenizer
    if encoding not in SUPPORTED_ENCODINGS:
        raise UnknownEncodingError(
            f"unknown encoding {encoding!r}; expected one of {sorted(SUPPORTED_ENCODINGS)}"
        )
    with _tokenizers_lock:
        tokenizer = _tokenizers.get(encoding)
        if tokenizer is None:
            tokenizer = _load_bindings().tokenizer_for_encoding(encoding)
            _tokenizers[encoding] = tokenizer
        return tokenizer


def count_tokens(text: str, *, encoding: str = DEFAULT_ENCODING) -> int:
    """Number of tokens in `text`; special-token text such as <|endoftext|> counts as plain text."""
    if not text:
        return 0
    return _tokenizer(encoding).count(text)


def fits_in_tokens(text: str, max_tokens: int, *, encoding: str = DEFAULT_ENCODING) -> bool:
    """Whether `text` is at most `max_tokens` long; stops counting once past the limit."""
    if max_tokens < 0:
        return False
    if not text:
        return True
    return _tokenizer(encoding).count_till_limit(text, max_tokens) is not None


def encode_tokens(text: str, *, encoding: str = DEFAULT_ENCODING) -> list[int]:
    if not text:
        return []
    return list(_tokenizer(encoding).encode(text))


def decode_tokens(tokens: list[int], *, encoding: str = DEFAULT_ENCODING) -> str:
    """Text of `tokens`; raises ValueError if they end or start inside a character."""
    if not tokens:
        return ""
    return _tokenizer(encoding).decode(tokens)


def truncate_to_tokens(
    text: str,
    max_tokens: int,
    *,
    encoding: str = DEFAULT_ENCODING,
    keep_end: bool = False,
) -> str:
    """The longest start (or end, with `keep_end`) of `text` that is at most `max_tokens` long.

    Never splits a character: a cut that would land inside one drops the whole
    character, so the result can be a token or so shorter than the budget.
    """
    if max_tokens <= 0 or not text:
        return ""
    tokenizer = _tokenizer(encoding)
    if tokenizer.count_till_limit(text, max_tokens) is not None:
        return text
    tokens = tokenizer.encode(text)
    kept = max_tokens
    while kept > 0:
        window = tokens[-kept:] if keep_end else tokens[:kept]
        try:
            truncated = tokenizer.decode(window)
        except ValueError:
            kept -= 1
            continue
        # Re-encoding a cut text can merge differently at the cut; never exceed the budget.
        if tokenizer.count_till_limit(truncated, max_tokens) is not None:
            return truncated
        kept -= 1
    return ""


def _content_text(content: Any) -> Iterable[str]:
    """The parts of a message value that the model reads as text."""
    if content is None:
        return ()
    if isinstance(content, str):
        return (content,)
    if isinstance(content, list):
        # Multimodal content: [{"type": "text", "text": ...}, {"type": "image_url", ...}];
        # images are priced separately by the provider and not counted here.
        return tuple(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    # tool_calls and other structured values reach the model serialised.
    return (json.dumps(content, ensure_ascii=False, separators=(",", ":")),)


def count_message_tokens(messages: list[dict[str, Any]], *, encoding: str = DEFAULT_ENCODING) -> int:
    """Prompt tokens of a chat completion request, counted as OpenAI's cookbook does.

    Every value of every message is counted (role, content, name, ...), plus a
    fixed overhead per message, one more token for a `name`, and the reply primer.
    Exact for OpenAI's own chat models; a close estimate for other providers.
    """
    tokenizer = _tokenizer(encoding)
    total = TOKENS_REPLY_PRIMER
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            for text in _content_text(value):
                if text:
                    total += tokenizer.count(text)
            if key == "name":
                total += TOKENS_PER_NAME
    return total
