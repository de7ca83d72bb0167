"""What every read-only page of the chats back office shares."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.text import Truncator

EXCERPT_CHARS = 120


def excerpt(text: str, length: int = EXCERPT_CHARS) -> str:
    return Truncator(" ".join(text.split())).chars(length)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records, not documents: seen in the back office, changed only by their owners."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
