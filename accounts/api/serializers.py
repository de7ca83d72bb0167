from __future__ import annotations

from django.contrib.auth import authenticate
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from accounts.models import ApiKey, User


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
    """`username` may be the username or the email address."""

    def validate(self, attrs):  # type: ignore[no-untyped-def]
        user = authenticate(
            request=self.context.get("request"),
            username=attrs[self.username_field],
            password=attrs["password"],
        )
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": ["No active account with these credentials."]},
                code="authentication_failed",
            )
        refresh = self.get_token(user)
        self.user = user
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


class LogoutInput(serializers.Serializer):
    refresh = serializers.CharField()
