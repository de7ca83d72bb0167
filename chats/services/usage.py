"""What a generation cost: the record a reply carries, and the usage row it leaves."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User

from ..models import Chat, UsageRecord


@dataclass(frozen=True)
class GenerationRecord:
    connection_label: str = ""
    model: str = ""
    latency_ms: int | None = None
    first_token_ms: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    finish_reason: str = ""
    is_partial: bool = False
    error: str = ""
    cost_micro_usd: int = 0


def usage_record(*, user: User, chat: Chat | None, generation: GenerationRecord, kind: str = "chat") -> None:
    if not generation.tokens_in and not generation.tokens_out:
        return
    UsageRecord.objects.create(
        user=user,
        chat=chat,
        connection_label=generation.connection_label[:100],
        model=generation.model[:200],
        tokens_in=generation.tokens_in or 0,
        tokens_out=generation.tokens_out or 0,
        cost_micro_usd=generation.cost_micro_usd,
        kind=kind,
    )
