from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone

ADULT_AGE = 18


class ContentFilter(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    STRICT = "strict", "Strict"


class SubscriptionTier(models.TextChoices):
    FREE = "free", "Free"
    PLUS = "plus", "Plus"
    PRO = "pro", "Pro"


def avatar_upload_to(instance: User, filename: str) -> str:
    return f"avatars/users/{instance.pk}/{filename}"


class User(AbstractUser):
    """A Tavern account. Credits are not here: they live in the marketplace ledger."""

    display_name = models.CharField(max_length=80, blank=True)
    avatar = models.ImageField(upload_to=avatar_upload_to, blank=True)
    bio = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    locale = models.CharField(max_length=16, default="en")
    content_filter = models.CharField(
        max_length=10, choices=ContentFilter.choices, default=ContentFilter.MODERATE
    )
    birth_date = models.DateField(null=True, blank=True)
    show_nsfw = models.BooleanField(
        default=False, help_text="Opt-in to NSFW content; honoured only for adults."
    )
    subscription_tier = models.CharField(
        max_length=8, choices=SubscriptionTier.choices, default=SubscriptionTier.FREE
    )

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_ci_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    def is_adult(self, *, today: datetime.date | None = None) -> bool:
        if self.birth_date is None:
            return False
        today = today or timezone.localdate()
        years = today.year - self.birth_date.year
        if (today.month, today.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years >= ADULT_AGE

    @property
    def sees_nsfw(self) -> bool:
        """NSFW is hidden unless the user opted in, is an adult, and filters no more than mildly."""
        return (
            self.show_nsfw
            and self.is_adult()
            and self.content_filter in (ContentFilter.NONE, ContentFilter.MILD)
        )


class ApiKey(models.Model):
    """A personal API key. Only its SHA-256 is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
