from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from accounts.lockout import login_lockout
from accounts.models import ApiKey, User
from accounts.selectors import user_email_verified
from tavern.api.exceptions import EmailUnverified, LockedOut


class MeOutput(serializers.ModelSerializer):
    sees_nsfw = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "display_name",
            "avatar",
            "bio",
            "locale",
            "content_filter",
            "birth_date",
            "show_nsfw",
            "sees_nsfw",
            "subscription_tier",
            "date_joined",
        ]
        read_only_fields = fields


class MeUpdateInput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["display_name", "bio", "locale", "content_filter", "birth_date", "show_nsfw"]
        extra_kwargs = {field: {"required": False} for field in fields}


class ApiKeyOutput(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The key itself. Shown only in this response.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class TokenObtainInput(TokenObtainPairSerializer):
    """`username` may be the username or the email address. The sign-in form's rules
    hold here too: the lockout policy, and a verified email address."""

    def validate(self, attrs):  # type: ignore[no-untyped-def]
        request = self.context["request"]
        http_request = getattr(request, "_request", request)
        credentials = {"username": attrs[self.username_field], "password": attrs["password"]}
        lockout = login_lockout(http_request, credentials)
        if lockout is not None:
            raise LockedOut(lockout.message, retry_after=lockout.retry_after)
        user = authenticate(request=http_request, **credentials)
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": ["No active account with these credentials."]},
                code="authentication_failed",
            )
        if not user_email_verified(user=user):
            raise EmailUnverified()
        # A sign-in like the form's: last_login, and the lockout's failure count reset.
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        refresh = self.get_token(user)
        self.user = user
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


class LogoutInput(serializers.Serializer):
    refresh = serializers.CharField()
