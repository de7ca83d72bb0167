from __future__ import annotations

from allauth.account import forms as allauth_forms
from django import forms
from django.conf import settings

from .models import User
from .services import user_password_changed


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "avatar", "bio", "locale"]
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4}),
            "locale": forms.Select(choices=settings.LANGUAGES),
        }

    def clean_avatar(self):  # type: ignore[no-untyped-def]
        avatar = self.cleaned_data.get("avatar")
        if avatar and hasattr(avatar, "size") and avatar.size > settings.AVATAR_MAX_BYTES:
            limit = settings.AVATAR_MAX_BYTES // 1024
            raise forms.ValidationError(f"The avatar is larger than {limit} KB.")
        return avatar


class ContentFilterForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["content_filter", "birth_date", "show_nsfw"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"})}
        labels = {"show_nsfw": "Show NSFW characters and posts"}


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. “my phone app”.")


class _RevokesCredentials(forms.Form):
    """After a new password: every other device is signed out (refresh tokens, sockets,
    sessions) and, when ticked, the API keys stop working too."""

    revoke_api_keys = forms.BooleanField(
        label="Also revoke my API keys",
        required=False,
        help_text="Programs using a key stop working until you give them a new one.",
    )
    user: User

    def save(self) -> None:
        super().save()  # type: ignore[misc]
        user_password_changed(user=self.user, revoke_api_keys=self.cleaned_data.get("revoke_api_keys", False))


class ResetPasswordKeyForm(_RevokesCredentials, allauth_forms.ResetPasswordKeyForm):
    """A reset means the password may be known to someone else: keys go by default."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["revoke_api_keys"].initial = True


class ChangePasswordForm(_RevokesCredentials, allauth_forms.ChangePasswordForm):
    pass


class SetPasswordForm(_RevokesCredentials, allauth_forms.SetPasswordForm):
    pass
