"""Demo logins for `make run`: `demo` always, `admin` only when DEBUG is on."""

from __future__ import annotations

from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sites.models import Site

from .models import User


def _ensure_user(*, username: str, password: str, email: str, **fields: object) -> tuple[User, bool]:
    user, created = User.objects.get_or_create(username=username, defaults={"email": email, **fields})
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user, created


def demo_seed() -> list[str]:
    lines = []
    site_host = urlsplit(settings.SITE_URL).netloc or "localhost"
    Site.objects.update_or_create(pk=settings.SITE_ID, defaults={"domain": site_host, "name": "Tavern"})

    _, created = _ensure_user(
        username=settings.DEMO_USERNAME,
        password=settings.DEMO_PASSWORD,
        email="demo@tavern.local",
        display_name="Demo Traveller",
        bio="A demo account for trying Tavern.",
    )
    lines.append(f"user {settings.DEMO_USERNAME} {'created' if created else 'already there'}")

    if settings.DEBUG:
        admin, created = _ensure_user(
            username=settings.ADMIN_USERNAME,
            password=settings.ADMIN_PASSWORD,
            email="admin@tavern.local",
            display_name="Tavern Admin",
            is_staff=True,
            is_superuser=True,
        )
        admin.groups.add(*Group.objects.filter(name__in=["staff", "moderator"]))
        lines.append(f"superuser {settings.ADMIN_USERNAME} {'created' if created else 'already there'}")
    return lines
