from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import ApiKey, User
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
