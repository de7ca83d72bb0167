"""Back office for chats: shared model connections (staff), chats and their messages
(read-only, for moderators), presets (read-only) and usage with totals.

Writes go through `chats.services`; nothing here loads a whole chat: a chat's page
shows its latest messages and links to the message list filtered to it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from accounts.models import SubscriptionTier
from tavern.outbound import validate_outbound_url

from .models import Chat, ChatParticipant, Message, ModelConnection, Preset, Swipe, UsageRecord
from .services import connection_record_test, connection_save
from .turn_context import connection_config

CHAT_RECENT_MESSAGES = 20  # shown on a chat's page; the rest are one click away, paginated
EXCERPT_CHARS = 120


def _excerpt(text: str, length: int = EXCERPT_CHARS) -> str:
    return Truncator(" ".join(text.split())).chars(length)


def _usd(micro_usd: int | None) -> str:
    return f"${Decimal(micro_usd or 0) / 1_000_000:,.6f}"


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Records, not documents: seen in the back office, changed only by their owners."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# ---------------------------------------------------------------- model connections


_CONNECTION_FIELDS = ("name", "base_url", "model", "extra_headers", "context_size", "max_reply_tokens")


class ModelConnectionForm(forms.ModelForm):
    """A shared connection. The key is write-only: never rendered, blank keeps the stored one."""

    base_url = forms.URLField(
        label="Base URL",
        max_length=500,
        assume_scheme="https",
        help_text="e.g. https://openrouter.ai/api/v1",
        validators=[validate_outbound_url],
    )
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave blank to keep the stored key.",
    )
    remove_api_key = forms.BooleanField(
        label="Remove the stored key", required=False, help_text="For servers that need no key."
    )
    allowed_tiers = forms.MultipleChoiceField(
        choices=SubscriptionTier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Plans whose users may pick this connection.",
    )

    class Meta:
        model = ModelConnection
        fields = (*_CONNECTION_FIELDS, "allowed_tiers")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            # The back office makes shared connections only; users make their own.
            self.instance.owner = None
            self.instance.is_shared = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("api_key") and cleaned.get("remove_api_key"):
            raise forms.ValidationError("Give a new key or remove the stored one, not both.")
        return cleaned

    def api_key_change(self) -> str | None:
        """What `connection_save` takes: None keeps the key, "" removes it."""
        if self.cleaned_data.get("remove_api_key"):
            return ""
        return self.cleaned_data.get("api_key") or None


@admin.register(ModelConnection)
class ModelConnectionAdmin(admin.ModelAdmin):
    form = ModelConnectionForm
    list_display = ("name", "model", "base_url", "owner_or_shared", "tiers", "last_test")
    list_filter = ("is_shared", "last_test_ok")
    search_fields = ("name", "model", "base_url", "owner__username")
    list_select_related = ("owner",)
    readonly_fields = (
        "owner",
        "is_shared",
        "api_key_hint",
        "extra_header_names",
        "allowed_tiers",
        "last_tested_at",
        "last_test_ok",
        "last_test_message",
        "created_at",
        "updated_at",
    )
    actions = ["test_connection"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ModelConnection | None = None
    ) -> tuple[str, ...]:
        if obj is None or obj.owner_id is None:
            # allowed_tiers is the form's checkboxes on a shared connection
            return tuple(name for name in self.readonly_fields if name != "allowed_tiers")
        return self.readonly_fields

    def get_fieldsets(self, request: HttpRequest, obj: ModelConnection | None = None) -> Any:
        tested = ("Last test", {"fields": ("last_tested_at", "last_test_ok", "last_test_message")})
        if obj is None:
            return ((None, {"fields": ("name", "base_url", "model", "api_key")}), self._settings_fieldset())
        if obj.owner_id is not None:
            # A user's own connection: readable, never its key, nor header values (they may hold secrets).
            return (
                (None, {"fields": ("name", "owner", "base_url", "model", "api_key_hint")}),
                (
                    "Settings",
                    {"fields": ("extra_header_names", "context_size", "max_reply_tokens", "allowed_tiers")},
                ),
                tested,
                (None, {"fields": ("created_at", "updated_at")}),
            )
        return (
            (
                None,
                {
                    "fields": (
                        "name",
                        "is_shared",
                        "base_url",
                        "model",
                        "api_key_hint",
                        "api_key",
                        "remove_api_key",
                    )
                },
            ),
            self._settings_fieldset(),
            tested,
            (None, {"fields": ("created_at", "updated_at")}),
        )

    @staticmethod
    def _settings_fieldset() -> tuple[str, dict[str, Any]]:
        return (
            "Settings",
            {"fields": ("allowed_tiers", "extra_headers", "context_size", "max_reply_tokens")},
        )

    def has_change_permission(self, request: HttpRequest, obj: ModelConnection | None = None) -> bool:
        if obj is not None and obj.owner_id is not None:
            return False  # a user's own connection is theirs to edit
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ModelConnection | None = None) -> bool:
        if obj is not None and obj.owner_id is not None:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: ModelConnection, form: forms.ModelForm, change: bool
    ) -> None:
        data = {name: form.cleaned_data[name] for name in (*_CONNECTION_FIELDS, "allowed_tiers")}
        connection_save(owner=None, connection=obj, data=data, api_key=form.api_key_change())  # type: ignore[attr-defined]

    @admin.display(description="owner")
    def owner_or_shared(self, connection: ModelConnection) -> str:
        return str(connection.owner) if connection.owner_id else "shared"

    @admin.display(description="tiers")
    def tiers(self, connection: ModelConnection) -> str:
        return ", ".join(connection.allowed_tiers or []) or "—"

    @admin.display(description="last test")
    def last_test(self, connection: ModelConnection) -> str:
        if connection.last_test_ok is None:
            return "never tested"
        verdict = "ok" if connection.last_test_ok else "failed"
        return f"{verdict}: {_excerpt(connection.last_test_message, 80)}"

    @admin.display(description="extra headers")
    def extra_header_names(self, connection: ModelConnection) -> str:
        names = sorted((connection.extra_headers or {}).keys())
        return ", ".join(names) + " (values hidden)" if names else "—"

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[ModelConnection]) -> None:
        from tavern.ai.chat import connection_test
        from tavern.crypto import DecryptionError

        for connection in queryset:
            if connection.owner_id is not None:
                # Its owner tests it; the back office does not send a user's key anywhere.
                self.message_user(
                    request, f"{connection.name}: a user's own connection, not tested.", messages.WARNING
                )
                continue
            try:
                result = async_to_sync(connection_test)(connection_config(connection))
                ok, message = result.ok, result.message
            except (DecryptionError, ValueError) as error:
                ok, message = False, f"{connection.name}: {error}"
            connection_record_test(connection=connection, ok=ok, message=message)
            self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)


# ---------------------------------------------------------------- chats and messages


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


@admin.register(Chat)
class ChatAdmin(_ReadOnlyAdmin):
    list_display = ("title", "owner", "character_names", "message_count", "last_message_at", "archived_at")
    list_filter = (ArchivedFilter,)
    search_fields = ("title", "owner__username")
    list_select_related = ("owner",)
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("title", "owner", "character_names", "persona", "connection", "preset")}),
        (
            "Messages",
            {
                "fields": (
                    "message_count",
                    "last_position",
                    "last_message_at",
                    "last_message_preview",
                    "recent_messages",
                )
            },
        ),
        (
            "State",
            {
                "fields": (
                    "archived_at",
                    "branched_from",
                    "summary",
                    "summary_until",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    readonly_fields = tuple(name for _, options in fieldsets for name in options["fields"])

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chat]:
        # what the list and the change page show, in one query plus the participants
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "persona", "connection", "preset", "branched_from")
            .prefetch_related(_participants())
        )

    @admin.display(description="characters")
    def character_names(self, chat: Chat) -> str:
        return ", ".join(p.character.name for p in chat.participants.all()) or "—"

    @admin.display(description=f"latest {CHAT_RECENT_MESSAGES} messages")
    def recent_messages(self, chat: Chat) -> str:
        latest = list(
            Message.objects.filter(chat=chat)
            .order_by("-position")
            .only("pk", "position", "author", "name", "content", "is_partial", "is_hidden")[
                :CHAT_RECENT_MESSAGES
            ]
        )
        latest.reverse()
        link = reverse("admin:chats_message_changelist") + f"?chat__id__exact={chat.pk}"
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:chats_message_change", args=[m.pk]),
                    m.position,
                    m.author,
                    m.name,
                    _excerpt(m.content),
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
        return _excerpt(swipe.content)


@admin.register(Message)
class MessageAdmin(_ReadOnlyAdmin):
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
    list_filter = ("author", "is_partial", "is_hidden")
    search_fields = ("content", "name", "chat__title")
    list_select_related = ("chat",)
    # Newest chats and their latest messages first; filtered to one chat this walks
    # the (chat, position) index backwards, so a 50,000-message chat opens at once.
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
        return _excerpt(message.content)


@admin.register(Swipe)
class SwipeAdmin(_ReadOnlyAdmin):
    list_display = ("__str__", "message", "index", "content_excerpt", "model", "finish_reason", "created_at")
    list_filter = ("finish_reason", "is_partial")
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
        return _excerpt(swipe.content)


# ---------------------------------------------------------------- presets, usage


@admin.register(Preset)
class PresetAdmin(_ReadOnlyAdmin):
    list_display = ("name", "owner", "temperature", "top_p", "max_tokens", "updated_at")
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)
    fields = (
        "name",
        "owner",
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "frequency_penalty",
        "presence_penalty",
        "repetition_penalty",
        "stop",
        "max_tokens",
        "seed",
        "source",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields


@admin.register(UsageRecord)
class UsageRecordAdmin(_ReadOnlyAdmin):
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
