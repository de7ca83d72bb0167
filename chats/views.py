"""Pages for chats and their settings: parse the form, call one service, render.

Access goes through the selectors: another user's chat, message, connection or
preset is a 404, exactly like a missing one. The chat page is rendered here and
then kept live by static/chats/js/chat.js over `ws/chats/<id>/`; the small
fragment views give that script server-rendered (sanitised) message HTML, so no
user text is ever turned into markup in the browser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from characters.models import Character
from characters.selectors import (
    character_get_visible,
    characters_owned,
    lorebooks_owned,
    persona_get_owned,
    personas_owned,
)
from chats.forms import ChatImportForm, ChatNewForm, ConnectionForm, PresetForm, PresetImportForm
from chats.imports import chat_import_start
from chats.models import Author, Chat, Message, SpeakerStrategy, Swipe
from chats.selectors import (
    chat_get_for_user,
    chats_for_user,
    connection_get_owned,
    connection_get_usable,
    connections_for_user,
    message_in_chat,
    messages_page,
    preset_get_owned,
    presets_for_user,
    usage_for_user,
)
from chats.services import (
    ChatError,
    chat_archive,
    chat_create,
    connection_save,
    preset_import_file,
    preset_save,
)
from tavern.models import BackgroundJob

CHATS_PAGE_SIZE = 30
USAGE_DAYS = 31
MAX_REQUESTED_CHARACTERS = 12


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast(User, request.user)


def _ids(values: list[str]) -> list[int]:
    """Positive integers from query values, in order, without repeats."""
    seen: list[int] = []
    for value in values:
        if value.isdigit() and int(value) not in seen:
            seen.append(int(value))
    return seen


# ---------------------------------------------------------------- chat list


@login_required
@require_GET
def chat_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    archived = request.GET.get("tab") == "archived"
    chats = chats_for_user(user=_user(request), q=q, archived=archived)
    page = Paginator(chats, CHATS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "chats/list.html", {"page": page, "q": q, "archived": archived})


# ---------------------------------------------------------------- new chat, import


@login_required
def chat_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    requested = [
        character_get_visible(character_id=pk, user=user)
        for pk in _ids(request.GET.getlist("character"))[:MAX_REQUESTED_CHARACTERS]
    ]
    offered: dict[int, str] = {c.pk: c.name for c in requested}
    for pk, name in characters_owned(user=user).values_list("id", "name")[:500]:
        offered.setdefault(pk, name)
    form = ChatNewForm(
        request.POST or None,
        initial={"characters": [c.pk for c in requested]},
        characters=list(offered.items()),
        personas=list(personas_owned(user=user).values_list("id", "name")),
        connections=_connection_choices(request),
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        by_id = {c.pk: c for c in requested}
        characters = [
            by_id.get(pk) or character_get_visible(character_id=pk, user=user) for pk in values["characters"]
        ]
        persona_id, connection_id = values["persona"], values["connection"]
        try:
            chat = chat_create(
                owner=user,
                characters=characters,
                persona=persona_get_owned(persona_id=persona_id, user=user) if persona_id else None,
                connection=connection_get_usable(connection_id=connection_id, user=user)
                if connection_id
                else None,
                title=values["title"],
            )
        except ChatError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("chats:detail", chat.pk)
    return render(request, "chats/new.html", {"form": form, "requested": requested})


def _connection_choices(request: HttpRequest) -> list[tuple[int, str]]:
    return [
        (c.pk, f"{c.name} · {c.model}{' (shared)' if c.is_shared else ''}")
        for c in connections_for_user(user=_user(request))
    ]


@login_required
def chat_import(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ChatImportForm(
        request.POST or None,
        request.FILES or None,
        characters=list(characters_owned(user=user).values_list("id", "name")[:500]),
    )
    if request.method == "POST" and form.is_valid():
        pk = form.cleaned_data["character"]
        character = character_get_visible(character_id=pk, user=user) if pk else None
        upload = form.cleaned_data["file"]
        try:
            started = chat_import_start(
                owner=user, data=upload.read(), input_name=upload.name or "", character=character
            )
        except ChatError as error:
            form.add_error("file", error.message)
        else:
            if isinstance(started, BackgroundJob):
                messages.info(request, f"{upload.name} is big: it is being imported in the background.")
                return redirect("job", started.pk)
            messages.success(request, f"Imported “{started.title}” with {started.message_count} messages.")
            return redirect("chats:detail", started.pk)
    return render(request, "chats/import.html", {"form": form})


# ---------------------------------------------------------------- the chat page


@dataclass(frozen=True)
class MessageView:
    """A message as the page shows it: who (with avatar) and what made it."""

    message: Message
    avatar_url: str
    initial: str
    generated_by: str  # the connection label of the shown swipe ("Offline demo", a name, or "")

    @property
    def is_reply(self) -> bool:
        return self.message.author in (Author.CHARACTER, Author.NARRATOR)


def _generation_labels(page: list[Message]) -> dict[int, str]:
    """The connection that wrote each message's shown swipe (one query for the page).
    The messages come from an access-checked selector."""
    shown = {(m.pk, m.swipe_index) for m in page if m.author != Author.USER}
    if not shown:
        return {}
    rows = Swipe.objects.filter(message_id__in=[pk for pk, _ in shown]).values_list(
        "message_id", "index", "connection_label"
    )
    return {message_id: label for message_id, index, label in rows if (message_id, index) in shown}


def _message_views(request: HttpRequest, chat: Chat, page: list[Message]) -> list[MessageView]:
    characters: dict[int, Character] = {p.character_id: p.character for p in chat.participants.all()}
    labels = _generation_labels(page)
    persona_avatar = chat.persona.avatar if chat.persona_id and chat.persona.avatar else None
    user_avatar = persona_avatar or (_user(request).avatar or None)
    views = []
    for message in page:
        avatar = user_avatar if message.author == Author.USER else None
        if message.character_id in characters:
            avatar = characters[message.character_id].avatar or None
        views.append(
            MessageView(
                message=message,
                avatar_url=avatar.url if avatar else "",
                initial=(message.name[:1] or "?").upper(),
                generated_by=labels.get(message.pk, ""),
            )
        )
    return views


@login_required
@require_GET
@ensure_csrf_cookie
def chat_detail(request: HttpRequest, chat_id: int) -> HttpResponse:
    user = _user(request)
    chat = chat_get_for_user(chat_id=chat_id, user=user)
    page = messages_page(chat=chat)
    participants = [p for p in chat.participants.all() if p.left_at is None]
    present = {p.character_id for p in participants}
    context = {
        "chat": chat,
        "items": _message_views(request, chat, page),
        "has_older": bool(page) and page[0].position > 1,
        "participants": participants,
        "is_group": len(participants) > 1,
        "personas": personas_owned(user=user),
        "connections": connections_for_user(user=user),
        "presets": presets_for_user(user=user),
        "lorebooks": lorebooks_owned(user=user),
        "chat_lorebook_ids": set(chat.lorebooks.values_list("pk", flat=True)),
        "addable": [
            (pk, name)
            for pk, name in characters_owned(user=user).values_list("id", "name")[:500]
            if pk not in present
        ],
        "speaker_strategies": SpeakerStrategy.choices,
    }
    return render(request, "chats/detail.html", context)


@login_required
@require_GET
def message_fragment(request: HttpRequest, chat_id: int, message_id: int) -> HttpResponse:
    """One message as the chat page renders it, for the script to swap in."""
    chat = chat_get_for_user(chat_id=chat_id, user=_user(request))
    message = message_in_chat(chat=chat, message_id=message_id)
    [item] = _message_views(request, chat, [message])
    return render(request, "chats/_message.html", {"item": item, "chat": chat})


@login_required
@require_GET
def message_history(request: HttpRequest, chat_id: int) -> HttpResponse:
    """Rendered messages before (older, on scroll) or after (catching up) a position."""
    chat = chat_get_for_user(chat_id=chat_id, user=_user(request))
    before, after = _ids([request.GET.get("before", "")]), _ids([request.GET.get("after", "")])
    page = messages_page(chat=chat, before=before[0] if before else None, after=after[0] if after else None)
    has_older = bool(page) and page[0].position > 1 and not after
    items = _message_views(request, chat, page)
    return render(request, "chats/_history.html", {"items": items, "chat": chat, "has_older": has_older})


@login_required
@require_POST
def chat_archive_toggle(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = chat_get_for_user(chat_id=chat_id, user=_user(request))
    archived = request.POST.get("archived") == "1"
    chat_archive(chat=chat, archived=archived)
    if archived:
        messages.success(request, f"“{chat.title}” is archived.")
        return redirect("chats:list")
    messages.success(request, f"“{chat.title}” is back in your chats.")
    return redirect("chats:detail", chat.pk)


# ---------------------------------------------------------------- settings: connections


@login_required
@require_GET
def connection_list(request: HttpRequest) -> HttpResponse:
    connections = connections_for_user(user=_user(request))
    return render(request, "chats/connections.html", {"connections": connections, "section": "connections"})


@login_required
def connection_edit(request: HttpRequest, connection_id: int | None = None) -> HttpResponse:
    connection = (
        connection_get_owned(connection_id=connection_id, user=_user(request)) if connection_id else None
    )
    initial: dict[str, Any] = {}
    if connection is not None:
        initial = {
            name: getattr(connection, name)
            for name in ("name", "base_url", "model", "context_size", "max_reply_tokens")
        }
        initial["extra_headers"] = _json_text(connection.extra_headers)
    form = ConnectionForm(
        request.POST or None, initial=initial, key_hint=connection.api_key_hint if connection else ""
    )
    if request.method == "POST" and form.is_valid():
        data, api_key = form.service_data()
        if connection is None and api_key is None:
            api_key = ""
        saved = connection_save(owner=_user(request), connection=connection, data=data, api_key=api_key)
        messages.success(request, f"The connection “{saved.name}” is saved.")
        return redirect("chats:connection", saved.pk)
    context = {"form": form, "connection": connection, "section": "connections"}
    return render(request, "chats/connection_edit.html", context)


def _json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) if value else ""


@login_required
@require_POST
def connection_delete(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = connection_get_owned(connection_id=connection_id, user=_user(request))
    name = connection.name
    connection.delete()
    messages.success(request, f"The connection “{name}” is deleted.")
    return redirect("chats:connections")


# ---------------------------------------------------------------- settings: presets, usage


@login_required
def preset_list(request: HttpRequest) -> HttpResponse:
    form = PresetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        name = form.cleaned_data["name"] or (upload.name or "").rsplit(".", 1)[0]
        try:
            preset = preset_import_file(owner=_user(request), name=name, data=upload.read())
        except ChatError as error:
            form.add_error("file", error.message)
        else:
            messages.success(request, f"The preset “{preset.name}” is imported.")
            return redirect("chats:preset", preset.pk)
    presets = presets_for_user(user=_user(request))
    return render(
        request, "chats/presets.html", {"presets": presets, "import_form": form, "section": "presets"}
    )


@login_required
def preset_edit(request: HttpRequest, preset_id: int | None = None) -> HttpResponse:
    preset = preset_get_owned(preset_id=preset_id, user=_user(request)) if preset_id else None
    form = PresetForm(request.POST or None, initial=PresetForm.initial_for(preset) if preset else {})
    if request.method == "POST" and form.is_valid():
        saved = preset_save(owner=_user(request), preset=preset, data=form.service_data())
        messages.success(request, f"The preset “{saved.name}” is saved.")
        return redirect("chats:preset", saved.pk)
    return render(request, "chats/preset_edit.html", {"form": form, "preset": preset, "section": "presets"})


@login_required
@require_POST
def preset_delete(request: HttpRequest, preset_id: int) -> HttpResponse:
    preset = preset_get_owned(preset_id=preset_id, user=_user(request))
    name = preset.name
    preset.delete()
    messages.success(request, f"The preset “{name}” is deleted.")
    return redirect("chats:presets")


@login_required
@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    days = list(
        usage_for_user(user=_user(request))
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            generations=Count("id"),
            tokens_in=Sum("tokens_in"),
            tokens_out=Sum("tokens_out"),
            cost_micro_usd=Sum("cost_micro_usd"),
        )
        .order_by("-day")[:USAGE_DAYS]
    )
    for day in days:
        day["cost_usd"] = Decimal(day["cost_micro_usd"] or 0) / 1_000_000
    totals = {
        name: sum(day[name] or 0 for day in days)
        for name in ("generations", "tokens_in", "tokens_out", "cost_usd")
    }
    return render(request, "chats/usage.html", {"days": days, "totals": totals, "section": "usage"})
