"""The kinds of background job, registered by the apps that own the work.

The ground runs jobs without knowing what they do: an app registers a kind (its
name, the function that does the work, and where the result can be seen) when it
loads, and the runner looks the kind up by the name stored on the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from tavern.models import BackgroundJob

    from .progress import JobProgress


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str  # what the job page calls it: "Lorebook import"
    doing: str  # what it is doing while it runs: "Importing"
    # Does the work inside the job's transaction; returns what it made. Raises a
    # DomainRuleError for bad input (the job fails with its message).
    run: Callable[[BackgroundJob, bytes, JobProgress], models.Model]
    # What the result is and where it is seen, from its id alone (no query):
    # {"type": "characters.lorebook", "api": "/api/v1/lorebooks/5/", "page": "/lorebooks/5/"}.
    links: Callable[[int], dict[str, str]]


_KINDS: dict[str, JobKind] = {}


def job_kind_register(kind: JobKind) -> JobKind:
    """Called once per process, when the owning app is ready."""
    _KINDS[kind.name] = kind
    return kind


def job_kind_get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no job kind {name!r} is registered") from None
