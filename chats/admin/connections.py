"""Shared model connections: staff define them, with the key write-only and
encrypted; a user's own connection is readable, never its key nor header values."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import SubscriptionTier
from tavern.outbound import validate_outbound_url

from ..models import ModelConnection
from ..reply_inputs import connection_config
from ..services import connection_record_test, connection_save
from .records import excerpt

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
        return f"{verdict}: {excerpt(connection.last_test_message, 80)}"

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
