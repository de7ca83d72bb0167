from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from .forms import ApiKeyCreateForm, ContentFilterForm, ProfileForm
from .models import User
from .selectors import api_key_get_for_user, api_key_list
from .services import AccountError, api_key_create, api_key_revoke, user_profile_update


@require_safe
def profile_public(request: HttpRequest, username: str) -> HttpResponse:
    profile = get_object_or_404(User, username=username, is_active=True)
    return render(request, "accounts/profile.html", {"profile": profile})


def _apply(form, request: HttpRequest, success: str) -> bool:  # type: ignore[no-untyped-def]
    if not form.is_valid():
        return False
    try:
        user_profile_update(user=request.user, data=form.cleaned_data)  # type: ignore[arg-type]
    except AccountError as error:
        form.add_error(error.field, error.message)
        return False
    messages.success(request, success)
    return True


@login_required
def settings_profile(request: HttpRequest) -> HttpResponse:
    user = User.objects.get(pk=request.user.pk)  # a fresh copy: a failed form must not touch request.user
    form = ProfileForm(request.POST or None, request.FILES or None, instance=user)
    if request.method == "POST" and _apply(form, request, "Your profile is saved."):
        return redirect("settings_profile")
    return render(request, "accounts/settings_profile.html", {"form": form, "section": "profile"})


@login_required
def settings_content(request: HttpRequest) -> HttpResponse:
    user = User.objects.get(pk=request.user.pk)
    form = ContentFilterForm(request.POST or None, instance=user)
    if request.method == "POST" and _apply(form, request, "Your content settings are saved."):
        return redirect("settings_content")
    return render(request, "accounts/settings_content.html", {"form": form, "section": "content"})


@login_required
def settings_api_keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_key_create(user=request.user, name=form.cleaned_data["name"])  # type: ignore[arg-type]
        except AccountError as error:
            form.add_error(error.field, error.message)
        else:
            new_key = issued.raw_key
            form = ApiKeyCreateForm()
    context = {
        "form": form,
        "keys": api_key_list(user=request.user),  # type: ignore[arg-type]
        "new_key": new_key,
        "section": "api_keys",
    }
    return render(request, "accounts/settings_api_keys.html", context)


@login_required
@require_POST
def settings_api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    key = api_key_get_for_user(key_id=key_id, user=request.user)  # type: ignore[arg-type]
    api_key_revoke(key=key)
    messages.success(request, f"The key “{key.name}” is revoked.")
    return redirect("settings_api_keys")
