from __future__ import annotations

from django import forms
from django.conf import settings

from .models import User


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
