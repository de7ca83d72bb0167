"""Back office for background jobs: read-only, for support ("why did my import fail?")."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from tavern.models import BackgroundJob


@admin.register(BackgroundJob)
class BackgroundJobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "owner", "status", "progress_done", "progress_total", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("owner__username", "input_name")
    list_select_related = ("owner",)
    readonly_fields = [field.name for field in BackgroundJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
