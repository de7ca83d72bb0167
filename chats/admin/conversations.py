"""Chats, messages and swipes in the back office, read-only.

A chat's metadata (owner, title, characters, counts, dates) is for every moderator;
its text (messages, swipes, the last-message preview, the summary) only for the
staff user holding a logged grant on it (`chats.private_access`). Nothing here
loads a whole chat: a chat's page shows its latest messages and links to the
message list of that chat."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from accounts.services import AccountError

from ..models import Chat, ChatParticipant, Message, Swipe
from ..private_access import private_content_access_grant, private_content_access_minutes
from .private_access import (
    CHAT_PARAM,
    ChatContentAdmin,
    ChatFilter,
    PrivateAccessForm,
    chat_grant,
    parse_id,
)
from .records import ReadOnlyAdmin, excerpt

CHAT_RECENT_MESSAGES = 20  # shown on a chat's page; the rest are one click away, paginated


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Archived"), ("no", "Active")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Chat]) -> QuerySet[Chat]:
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        return queryset


def _participants() -> Prefetch:
    return Prefetch(
        "participants",
        queryset=ChatParticipant.objects.select_related("character").only(
            "chat_id", "position", "left_at", "character__name"
        ),
    )


_PRIVATE_FIELDSET = (
    "Private content (your access is logged)",
    {"fields": ("last_message_preview", "summary", "recent_messages")},
)


@admin.register(Chat)
class ChatAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "owner",
        "character_names",
        "message_count",
        "last_message_at",
        "created_at",
        "archived_at",
    )
    list_filter = (ArchivedFilter,)
    search_fields = ("title", "owner__username")  # never the text: that needs a grant
    list_select_related = ("owner",)
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("title", "owner", "character_names", "persona", "connection", "preset")}),
        ("Messages", {"fields": ("message_count", "last_position", "last_message_at")}),
        (
            "State",
            {"fields": ("archived_at", "branched_from", "summary_until", "created_at", "updated_at")},
        ),
    )
    readonly_fields = (
        *(name for _, options in fieldsets for name in options["fields"]),  # type: ignore[arg-type]
        *_PRIVATE_FIELDSET[1]["fields"],
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chat]:
        # what the list and the change page show, in one query plus the participants
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "persona", "connection", "preset", "branched_from")
            .prefetch_related(_participants())
        )

    def get_fieldsets(self, request: HttpRequest, obj: Chat | None = None) -> Any:
        if obj is not None and chat_grant(request, obj.pk) is not None:
            return (*self.fieldsets, _PRIVATE_FIELDSET)
        return self.fieldsets

    def get_urls(self) -> list[URLPattern]:
        access = path(
            "<path:object_id>/access/",
            self.admin_site.admin_view(self.private_access_view),
            name="chats_chat_access",
        )
        return [access, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        chat_id = parse_id(unquote(object_id))
        grant = chat_grant(request, chat_id) if chat_id is not None else None
        context = {
            "private_access": grant,
            "private_access_form": None if grant or chat_id is None else PrivateAccessForm(),
            "access_url": reverse("admin:chats_chat_access", args=[chat_id]) if chat_id else "",
            "access_minutes": private_content_access_minutes(),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def private_access_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Request access to one chat's messages: a reason and a reference, logged."""
        chat = self.get_object(request, unquote(object_id))
        if chat is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, chat):
            raise PermissionDenied
        change_url = reverse("admin:chats_chat_change", args=[chat.pk])
        form = PrivateAccessForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                grant = private_content_access_grant(staff=request.user, chat=chat, **form.cleaned_data)  # type: ignore[arg-type]
            except AccountError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                until = date_format(localtime(grant.expires_at), "DATETIME_FORMAT")
                self.message_user(
                    request,
                    f"Access to this chat granted to you until {until}; logged as audit entry #{grant.pk}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Request access to “{chat}”",
            "chat": chat,
            "form": form,
            "access_url": request.path,
            "access_minutes": private_content_access_minutes(),
            "change_url": change_url,
        }
        return TemplateResponse(
            request, "admin/chats/chat/private_access.html", context, status=400 if form.is_bound else 200
        )

    @admin.display(description="characters")
    def character_names(self, chat: Chat) -> str:
        return ", ".join(p.character.name for p in chat.participants.all()) or "—"

    @admin.display(description=f"latest {CHAT_RECENT_MESSAGES} messages")
    def recent_messages(self, chat: Chat) -> str:
        # Shown only in the private fieldset, which `get_fieldsets` adds under a grant.
        latest = list(
            Message.objects.filter(chat=chat)
            .order_by("-position")
            .only("pk", "position", "author", "name", "content", "is_partial", "is_hidden")[
                :CHAT_RECENT_MESSAGES
            ]
        )
        latest.reverse()
        link = reverse("admin:chats_message_changelist") + f"?{CHAT_PARAM}={chat.pk}"
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:chats_message_change", args=[m.pk]),
                    m.position,
                    m.author,
                    m.name,
                    excerpt(m.content),
                    "partial" if m.is_partial else ("hidden" if m.is_hidden else ""),
                )
                for m in latest
            ),
        )
        return format_html(
            "<table><thead><tr><th>#</th><th>author</th><th>name</th><th>content</th><th></th></tr>"
            '</thead><tbody>{}</tbody></table><p><a href="{}">All {} messages of this chat →</a></p>',
            rows,
            link,
            chat.message_count,
        )


class SwipeInline(admin.TabularInline):
    model = Swipe
    fields = ("index", "content_excerpt", "model", "finish_reason", "tokens_out", "is_partial", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="content")
    def content_excerpt(self, swipe: Swipe) -> str:
        return excerpt(swipe.content)


@admin.register(Message)
class MessageAdmin(ChatContentAdmin):
    chat_path = "chat"
    list_display = (
        "__str__",
        "chat",
        "position",
        "author",
        "name",
        "content_excerpt",
        "is_partial",
        "created_at",
    )
    list_filter = (ChatFilter, "author", "is_partial", "is_hidden")
    search_fields = ("content", "name")  # within the one granted chat the list is for
    list_select_related = ("chat",)
    # Latest messages first: filtered to one chat this walks the (chat, position)
    # index backwards, so a 50,000-message chat opens at once.
    ordering = ("-chat", "-position")
    show_full_result_count = False
    inlines = [SwipeInline]
    fields = (
        "chat",
        "position",
        "author",
        "character",
        "name",
        "content",
        "swipe_index",
        "swipe_count",
        "token_count",
        "is_hidden",
        "is_partial",
        "client_id",
        "extra",
        "created_at",
        "edited_at",
    )
    readonly_fields = fields

    @admin.display(description="content")
    def content_excerpt(self, message: Message) -> str:
        return excerpt(message.content)


@admin.register(Swipe)
class SwipeAdmin(ChatContentAdmin):
    chat_path = "message__chat"
    list_display = ("__str__", "message", "index", "content_excerpt", "model", "finish_reason", "created_at")
    list_filter = (ChatFilter, "finish_reason", "is_partial")
    search_fields = ("content", "model", "connection_label")
    list_select_related = ("message",)
    show_full_result_count = False
    fields = (
        "message",
        "index",
        "content",
        "token_count",
        "connection_label",
        "model",
        "latency_ms",
        "first_token_ms",
        "tokens_in",
        "tokens_out",
        "finish_reason",
        "is_partial",
        "error",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="content")
    def content_excerpt(self, swipe: Swipe) -> str:
        return excerpt(swipe.content)
