"""Presets (read-only) and usage with totals of the filtered records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ..models import Preset, UsageRecord
from .records import ReadOnlyAdmin


def _usd(micro_usd: int | None) -> str:
    return f"${Decimal(micro_usd or 0) / 1_000_000:,.6f}"


@admin.register(Preset)
class PresetAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "temperature", "top_p", "max_tokens", "updated_at")
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)
    fields = ("name", "owner", *Preset.NUMBERS, "stop", "source", "created_at", "updated_at")
    readonly_fields = fields


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "user",
        "model",
        "connection_label",
        "tokens_in",
        "tokens_out",
        "cost",
        "kind",
        "created_at",
    )
    list_filter = ("model", "kind", "created_at")
    search_fields = ("user__username", "model", "connection_label")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "user",
        "chat",
        "connection_label",
        "model",
        "tokens_in",
        "tokens_out",
        "cost",
        "kind",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="cost (USD)", ordering="cost_micro_usd")
    def cost(self, record: UsageRecord) -> str:
        return _usd(record.cost_micro_usd)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if not isinstance(response, TemplateResponse) or "cl" not in (response.context_data or {}):
            return response  # a redirect (an action) or an error page
        filtered = response.context_data["cl"].queryset  # type: ignore[index]
        totals = filtered.order_by().aggregate(
            records=Count("id"),
            tokens_in=Sum("tokens_in", default=0),
            tokens_out=Sum("tokens_out", default=0),
            cost_micro_usd=Sum("cost_micro_usd", default=0),
        )
        response.context_data["usage_totals"] = {**totals, "cost": _usd(totals["cost_micro_usd"])}  # type: ignore[index]
        return response
