"""The gate in front of message text in the back office.

A staff user reads a chat's messages only while holding a grant on that chat
(`chats.private_access`): the request form below creates one, logged with its
reason. `ChatContentAdmin` is the base of the message and swipe pages: their
querysets hold only granted chats' rows, their lists open for one granted chat at
a time (so neither browsing nor searching crosses chats), and they are left off
the admin index because they are reached through a chat."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.models import (
    AUDIT_REASON_MAX_CHARS,
    AUDIT_REASON_MIN_CHARS,
    AUDIT_REFERENCE_MAX_CHARS,
    AuditEntry,
)

from ..private_access import private_content_access_get, private_content_chat_ids
from .records import ReadOnlyAdmin

CHAT_PARAM = "chat"  # ?chat=<id> on the message and swipe lists
_GRANTS = "_chats_private_access"  # per-request memo: the page asks more than once


class PrivateAccessForm(forms.Form):
    reference = forms.CharField(
        label="Report or legal request",
        max_length=AUDIT_REFERENCE_MAX_CHARS,
        help_text="The report id or the legal request number this access is for.",
        error_messages={"required": "Give the report id or the legal request number."},
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        min_length=AUDIT_REASON_MIN_CHARS,
        max_length=AUDIT_REASON_MAX_CHARS,
        help_text="Why you need to read this chat. Kept in the audit log.",
        error_messages={"required": "Give a reason: reading a private chat is logged with it."},
    )


def chat_grant(request: HttpRequest, chat_id: int) -> AuditEntry | None:
    """The requesting staff user's grant on this chat, asked once per request."""
    grants: dict[int, AuditEntry | None] = vars(request).setdefault(_GRANTS, {})
    if chat_id not in grants:
        grants[chat_id] = private_content_access_get(staff=request.user, chat_id=chat_id)  # type: ignore[arg-type]
    return grants[chat_id]


def parse_id(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def redirect_to_chat(request: HttpRequest, chat_id: int) -> HttpResponseRedirect:
    """To the chat's page, where its request form is."""
    messages.warning(
        request, "This chat's messages are private: request access with a reason first (it is logged)."
    )
    return HttpResponseRedirect(reverse("admin:chats_chat_change", args=[chat_id]) + "#private-access")


class ChatFilter(admin.SimpleListFilter):
    """?chat=<id>: the one chat a message or swipe list shows, which
    `ChatContentAdmin.changelist_view` insists on. The sidebar names it and offers no
    "All": there is no list of every chat's messages."""

    title = "chat"
    parameter_name = CHAT_PARAM

    def __init__(
        self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: admin.ModelAdmin
    ) -> None:
        super().__init__(request, params, model, model_admin)
        self.chat_path = getattr(model_admin, "chat_path", "chat")

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        # A choice for the chosen chat: a filter without choices is not applied at all.
        chat_id = parse_id(self.value())
        return [(str(chat_id), f"chat {chat_id}")] if chat_id is not None else []

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        for _, label in self.lookup_choices:
            yield {"selected": True, "query_string": changelist.get_query_string(), "display": label}

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chat_id = parse_id(self.value())
        if chat_id is None:
            return queryset.none()
        return queryset.filter(**{f"{self.chat_path}_id": chat_id})


class ChatContentAdmin(ReadOnlyAdmin):
    """Rows that carry a chat's text; `chat_path` leads from the row to its chat."""

    chat_path = "chat"

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        # Off the admin index: there is no list of every chat's messages to open.
        return {"add": False, "change": False, "delete": False, "view": False}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        granted = private_content_chat_ids(staff=request.user)  # type: ignore[arg-type]
        return super().get_queryset(request).filter(**{f"{self.chat_path}_id__in": granted})

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied  # before anything about chats is said
        chat_id = parse_id(request.GET.get(CHAT_PARAM))
        if chat_id is None:
            self.message_user(
                request,
                f"{self.opts.verbose_name_plural.capitalize()} are read one chat at a time: "
                "open the chat and request access.",
                messages.WARNING,
            )
            return HttpResponseRedirect(reverse("admin:chats_chat_changelist"))
        if chat_grant(request, chat_id) is None:
            return redirect_to_chat(request, chat_id)
        return super().changelist_view(request, extra_context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        chat_id = self._chat_id_of(unquote(object_id))
        if chat_id is not None and chat_grant(request, chat_id) is None:
            return redirect_to_chat(request, chat_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def _chat_id_of(self, object_id: str) -> int | None:
        try:
            return (
                self.model._default_manager.filter(pk=object_id)
                .values_list(f"{self.chat_path}_id", flat=True)
                .first()
            )
        except (ValueError, ValidationError):
            return None  # not an id: the admin answers as for a missing row
