"""Back office for accounts: users (ban, unban), personal API keys (revoke) and the
audit log of privileged access, which nobody can add to, change or delete from here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from .models import ApiKey, AuditEntry, User
from .services import api_key_revoke, user_set_active


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "email",
        "display_name",
        "subscription_tier",
        "is_active",
        "is_staff",
        "date_joined",
    )
    list_filter = ("subscription_tier", "content_filter", "is_active", "is_staff", "groups")
    search_fields = ("username", "email", "display_name")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "Tavern profile",
            {
                "fields": (
                    "display_name",
                    "avatar",
                    "bio",
                    "locale",
                    "content_filter",
                    "birth_date",
                    "show_nsfw",
                    "subscription_tier",
                )
            },
        ),
    )
    actions = ["ban_users", "unban_users"]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Unticking "active" here is a ban like the action's: the same service ends the
        user's tokens, keys and sockets (it does nothing when the flag did not change)."""
        active = obj.is_active
        if change and "is_active" in form.changed_data:
            obj.is_active = not active  # as stored: the service makes the change
        super().save_model(request, obj, form, change)
        user_set_active(user=obj, active=active)

    @admin.action(description="Ban selected users (deactivate)", permissions=["change"])
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        banned = list(queryset.exclude(pk=request.user.pk).filter(is_superuser=False))
        for user in banned:
            user_set_active(user=user, active=False)
        count = len(banned)
        self.message_user(request, f"{count} user(s) banned.", messages.SUCCESS)

    @admin.action(description="Unban selected users", permissions=["change"])
    def unban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_set_active(user=user, active=True)
        count = queryset.count()
        self.message_user(request, f"{count} user(s) unbanned.", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "prefix")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key=key)
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read by staff (and superusers); written only by `audit_entry_create`, so the
    log cannot be edited by the people it watches, superusers included."""

    list_display = (
        "created_at",
        "staff",
        "kind",
        "target_link",
        "subject",
        "reference",
        "reason_excerpt",
        "expires_at",
    )
    list_filter = ("kind", ("staff", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("reason", "reference", "object_repr", "staff__username", "subject__username")
    list_select_related = ("staff", "subject", "content_type")
    show_full_result_count = False
    fields = (
        "created_at",
        "staff",
        "kind",
        "target_link",
        "subject",
        "reference",
        "reason",
        "expires_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="object", ordering="object_repr")
    def target_link(self, entry: AuditEntry) -> str:
        label = f"{entry.content_type.model} {entry.object_id}: {entry.object_repr}"
        try:
            url = reverse(
                f"admin:{entry.content_type.app_label}_{entry.content_type.model}_change",
                args=[entry.object_id],
            )
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="reason")
    def reason_excerpt(self, entry: AuditEntry) -> str:
        return Truncator(" ".join(entry.reason.split())).chars(80)
