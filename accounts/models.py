from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxLengthValidator, MinLengthValidator
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


class AuditKind(models.TextChoices):
    """What a privileged access was for; later apps add theirs (payout review, moderation)."""

    CHAT_ACCESS = "chat_access", "Private chat access"


AUDIT_REASON_MIN_CHARS = 10
AUDIT_REASON_MAX_CHARS = 2000
AUDIT_REFERENCE_MAX_CHARS = 100


class AuditEntry(models.Model):
    """One privileged access by a staff account: who, to what, why, when, and until when.

    It lives in `accounts`, not in the app whose data was read, because its subject
    is a staff account acting under a role, and roles live here; every app that will
    log to it (chats for private chats, marketplace for payouts, community for
    moderation) already depends on `accounts`, so none has to depend on another. The
    ground package `tavern` holds infrastructure and no domain models.

    Append-only: written by `accounts.services.audit_entry_create` only, never
    changed or deleted (the admin allows neither, for superusers too). What was read
    is named by content type and id plus `object_repr`, a copy of its name at the
    time, so the entry still reads after the object is gone; the staff account is
    protected from deletion (deactivate it instead). An entry with `expires_at` is
    a grant: the access it records lasts until then.
    """

    staff = models.ForeignKey(User, on_delete=models.PROTECT, related_name="audit_entries")
    kind = models.CharField(max_length=32, choices=AuditKind.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    # Every Tavern model has a bigint primary key; an integer joins the granted ids cheaply.
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField("object", max_length=200)
    subject = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose data was accessed.",
    )
    reason = models.TextField(
        validators=[MinLengthValidator(AUDIT_REASON_MIN_CHARS), MaxLengthValidator(AUDIT_REASON_MAX_CHARS)]
    )
    reference = models.CharField(
        max_length=AUDIT_REFERENCE_MAX_CHARS, help_text="Report id or legal request number."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Until when the access lasts; empty for a one-off action."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [
            # "does this staff user hold a grant for this object now?" on every gated page
            models.Index(
                fields=["staff", "kind", "content_type", "object_id", "-expires_at"],
                name="accounts_audit_grant_idx",
            ),
            models.Index(fields=["-created_at"], name="accounts_audit_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=models.F("created_at")),
                name="accounts_audit_expires_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind}: {self.object_repr}"

    def is_active(self, *, now: datetime.datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at > (now or timezone.now())
