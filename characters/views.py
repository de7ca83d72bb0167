"""Pages for characters, lorebooks and personas: parse the form, call one service, render.

Access goes through the selectors: another user's private character, lorebook or
persona is a 404, exactly like a missing one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST, require_safe

from accounts.requests import AuthenticatedHttpRequest
from characters import selectors, services
from characters.cards import CardData, CardError, export_charx, export_json, export_png, world_to_sillytavern
from characters.cards import Lorebook as LorebookValue
from characters.cards import LorebookEntry as LorebookEntryValue
from characters.cards.json_bytes import dump_json_bytes
from characters.imports import character_import_start, lorebook_import_start
from characters.records import card_value, lorebook_value
from characters.services import CharacterError
from tavern.ai.tokenizer import count_tokens
from tavern.models import BackgroundJob
from tavern.pagination import CappedCountPaginator

from .forms import (
    POSITION_SHORT_LABELS,
    BrowseForm,
    CharacterForm,
    CharacterImportForm,
    LorebookCreateForm,
    LorebookEntryForm,
    LorebookForm,
    LorebookImportForm,
    PersonaForm,
    VersionCompareForm,
)
from .models import Character, Visibility

logger = logging.getLogger(__name__)

BROWSE_PAGE_SIZE = 24
MINE_PAGE_SIZE = 48
TOKEN_COUNT_MAX_TEXTS = 100


def _posted(request: HttpRequest) -> tuple[Any, Any]:
    """(data, files) for a form: bound on POST even when only files were sent."""
    if request.method == "POST":
        return request.POST, request.FILES
    return None, None


def _form_error(form: Any, error: CharacterError | CardError, *, default_field: str | None = None) -> None:
    """Put a service error on the field it names, or on the form."""
    message = error.message if isinstance(error, CharacterError) else str(error)
    field = error.field if isinstance(error, CharacterError) else default_field
    form.add_error(field if field in form.fields else default_field, message)


def _download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _chat_url(character: Character) -> str | None:
    """The chat start page, once the chats app has one."""
    try:
        return f"{reverse('chats:new')}?character={character.pk}"
    except NoReverseMatch:
        return None


# ---------------------------------------------------------------- browse


@require_GET
def character_browse(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if not data.get("sort"):
        data["sort"] = "relevance" if data.get("q", "").strip() else "popular"
    if not data.get("mode"):
        data["mode"] = "text"
    form = BrowseForm(data)
    filters = form.filters()
    characters = selectors.with_favourite_flag(
        selectors.character_search(user=request.user, filters=filters), user=request.user
    )
    page = CappedCountPaginator(characters, BROWSE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "characters/browse.html", {"form": form, "filters": filters, "page": page})


# ---------------------------------------------------------------- one character


@require_safe
def character_detail(request: HttpRequest, character_id: int) -> HttpResponse:
    character = selectors.character_get_visible(character_id=character_id, user=request.user)
    is_owner = request.user.is_authenticated and character.owner_id == request.user.pk
    context = {
        "character": character,
        "tags": selectors.character_tag_names(character),
        "is_owner": is_owner,
        "is_favourite": (
            request.user.is_authenticated and request.user.favourites.filter(character=character).exists()
        ),
        "similar": selectors.character_similar(character=character, user=request.user, limit=6),
        "versions": (
            list(selectors.character_versions(character=character).defer("snapshot")[:5]) if is_owner else []
        ),
        "chat_url": _chat_url(character),
    }
    return render(request, "characters/detail.html", context)


@login_required
@require_POST
def character_favourite(request: AuthenticatedHttpRequest, character_id: int) -> HttpResponse:
    character = selectors.character_get_visible(character_id=character_id, user=request.user)
    on = services.favourite_set(user=request.user, character=character, on=request.POST.get("on") == "1")
    messages.success(request, f"{character.name} is {'in' if on else 'no longer in'} your favourites.")
    return redirect("characters:detail", character.pk)


@login_required
@require_POST
def character_fork(request: AuthenticatedHttpRequest, character_id: int) -> HttpResponse:
    character = selectors.character_get_visible(character_id=character_id, user=request.user)
    fork = services.character_fork(character=character, owner=request.user)
    messages.success(request, f"Forked {character.name}: this private copy is yours to change.")
    return redirect("characters:edit", fork.pk)


EXPORTS = {
    "png": ("png", "image/png"),
    "json-v2": ("v2.json", "application/json"),
    "json-v3": ("json", "application/json"),
    "charx": ("charx", "application/zip"),
}


@require_GET
def character_export(request: HttpRequest, character_id: int, fmt: str) -> HttpResponse:
    if fmt not in EXPORTS:
        raise Http404
    character = selectors.character_get_visible(character_id=character_id, user=request.user)
    card = card_value(character, tags=selectors.character_tag_names(character))
    avatar = None
    if fmt in ("png", "charx") and character.avatar:
        with character.avatar.open("rb") as image:
            avatar = image.read()
    if fmt == "png":
        content = export_png(card, avatar)
    elif fmt == "charx":
        content = export_charx(card, {}, avatar)
    else:
        content = export_json(card, "v2" if fmt == "json-v2" else "v3")
    extension, content_type = EXPORTS[fmt]
    return _download(content, filename=f"{character.slug}.{extension}", content_type=content_type)


# ---------------------------------------------------------------- create, edit, import


@login_required
def character_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CharacterForm(*_posted(request), initial={"visibility": Visibility.PRIVATE, "language": "en"})
    if request.method == "POST" and form.is_valid():
        try:
            character = services.character_create(
                owner=request.user,
                card=form.card(CardData()),
                avatar_png=form.avatar_bytes(),
                **form.settings_data(),
                change_summary=form.cleaned_data["change_summary"] or "Created",
            )
        except (CharacterError, CardError) as error:
            _form_error(form, error, default_field="avatar" if isinstance(error, CardError) else None)
        else:
            messages.success(request, f"{character.name} is created.")
            return redirect("characters:detail", character.pk)
    return render(request, "characters/edit.html", {"form": form, "character": None})


@login_required
def character_edit(request: AuthenticatedHttpRequest, character_id: int) -> HttpResponse:
    character = selectors.character_get_owned(character_id=character_id, user=request.user)
    card = card_value(character, tags=selectors.character_tag_names(character))
    initial = CharacterForm.initial_for(
        card, visibility=character.visibility, is_nsfw=character.is_nsfw, language=character.language
    )
    form = CharacterForm(*_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.character_update(
                character=character,
                editor=request.user,
                card=form.card(card),
                avatar_png=form.avatar_bytes(),
                settings_data=form.settings_data(),
                change_summary=form.cleaned_data["change_summary"],
            )
        except (CharacterError, CardError) as error:
            _form_error(form, error, default_field="avatar" if isinstance(error, CardError) else None)
        else:
            messages.success(request, f"{form.cleaned_data['name']} is saved.")
            return redirect("characters:detail", character.pk)
    return render(request, "characters/edit.html", {"form": form, "character": character})


@dataclass(frozen=True)
class ImportResult:
    filename: str
    character: Character | None = None
    job: BackgroundJob | None = None  # a card with a big book, imported in the background
    error: str = ""


def _import_one(request: AuthenticatedHttpRequest, upload: UploadedFile) -> ImportResult:
    name = upload.name or "file"
    if upload.size is not None and upload.size > settings.CARD_MAX_BYTES:
        return ImportResult(name, error=f"The file is larger than {settings.CARD_MAX_BYTES // 1024} KB.")
    try:
        started = character_import_start(owner=request.user, data=upload.read(), filename=name)
    except CharacterError as error:
        return ImportResult(name, error=error.message)
    except CardError as error:
        return ImportResult(name, error=str(error))
    except Exception:
        # One unreadable file must not cost the user the others in the same upload.
        logger.exception("character import failed for %s", name)
        return ImportResult(name, error="This file could not be imported.")
    if isinstance(started, BackgroundJob):
        return ImportResult(name, job=started)
    return ImportResult(name, character=started)


@login_required
def character_import(request: HttpRequest) -> HttpResponse:
    form = CharacterImportForm(*_posted(request))
    results: list[ImportResult] = []
    if request.method == "POST" and form.is_valid():
        results = [_import_one(request, upload) for upload in form.cleaned_data["files"]]
        form = CharacterImportForm()
    return render(request, "characters/import.html", {"form": form, "results": results})


@login_required
@require_POST
def token_counts(request: HttpRequest) -> JsonResponse:
    """{"texts": {"key": "text", ...}} -> {"counts": {"key": n, ...}, "total": n} (o200k_base)."""
    try:
        texts = json.loads(request.body).get("texts")
    except (ValueError, AttributeError):
        texts = None
    if (
        not isinstance(texts, dict)
        or len(texts) > TOKEN_COUNT_MAX_TEXTS
        or not all(isinstance(text, str) for text in texts.values())
    ):
        return JsonResponse({"error": 'Send {"texts": {"name": "text", ...}}.'}, status=400)
    counts = {str(key): count_tokens(text) for key, text in texts.items()}
    return JsonResponse({"counts": counts, "total": sum(counts.values())})


# ---------------------------------------------------------------- my characters, trash


@login_required
@require_GET
def characters_mine(request: AuthenticatedHttpRequest) -> HttpResponse:
    trash = request.GET.get("tab") == "trash"
    characters = selectors.characters_owned(user=request.user, deleted=trash)
    page = CappedCountPaginator(characters, MINE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "characters/mine.html", {"page": page, "trash": trash})


@login_required
@require_POST
def character_delete(request: HttpRequest, character_id: int) -> HttpResponse:
    character = selectors.character_get_owned(character_id=character_id, user=request.user)
    services.character_delete(character=character)
    messages.success(request, f"{character.name} is in the trash; you can restore it from there.")
    return redirect("characters:mine")


@login_required
@require_POST
def character_restore(request: HttpRequest, character_id: int) -> HttpResponse:
    character = selectors.character_get_owned(character_id=character_id, user=request.user)
    services.character_restore(character=character)
    messages.success(request, f"{character.name} is restored.")
    return redirect("characters:detail", character.pk)


# ---------------------------------------------------------------- versions


@login_required
@require_GET
def character_versions(request: HttpRequest, character_id: int) -> HttpResponse:
    character = selectors.character_get_owned(character_id=character_id, user=request.user)
    versions = list(selectors.character_versions(character=character).defer("snapshot"))
    numbers = [version.number for version in versions]
    compare = VersionCompareForm(request.GET if "a" in request.GET else None, numbers=numbers)
    changes = None
    older = newer = None
    if compare.is_bound and compare.is_valid():
        first, second = sorted((compare.cleaned_data["a"], compare.cleaned_data["b"]))
        older = selectors.character_version_get(character=character, number=first)
        newer = selectors.character_version_get(character=character, number=second)
        changes = selectors.character_version_diff(older=older, newer=newer)
    elif not compare.is_bound and len(numbers) >= 2:
        compare = VersionCompareForm(initial={"a": numbers[1], "b": numbers[0]}, numbers=numbers)
    context = {
        "character": character,
        "versions": versions,
        "compare": compare,
        "changes": changes,
        "older": older,
        "newer": newer,
    }
    return render(request, "characters/versions.html", context)


@login_required
@require_POST
def character_version_restore(
    request: AuthenticatedHttpRequest, character_id: int, number: int
) -> HttpResponse:
    character = selectors.character_get_owned(character_id=character_id, user=request.user)
    version = selectors.character_version_get(character=character, number=number)
    services.character_version_restore(version=version, editor=request.user)
    messages.success(request, f"Version {number} is restored as the newest version.")
    return redirect("characters:versions", character.pk)


# ---------------------------------------------------------------- lorebooks


def _lorebooks_page(
    request: AuthenticatedHttpRequest, *, create_form: LorebookCreateForm, import_form: LorebookImportForm
) -> HttpResponse:
    books = selectors.lorebooks_owned(user=request.user).select_related("character")
    context = {"books": books, "create_form": create_form, "import_form": import_form}
    return render(request, "characters/lorebooks.html", context)


@login_required
def lorebook_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    create_form = LorebookCreateForm(*_posted(request))
    if request.method == "POST" and create_form.is_valid():
        book = services.lorebook_create(
            owner=request.user,
            value=LorebookValue(
                name=create_form.cleaned_data["name"], description=create_form.cleaned_data["description"]
            ),
        )
        messages.success(request, f"{book.name} is created; add its first entry.")
        return redirect("characters:lorebook", book.pk)
    return _lorebooks_page(request, create_form=create_form, import_form=LorebookImportForm())


@login_required
@require_POST
def lorebook_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LorebookImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            started = lorebook_import_start(
                owner=request.user,
                data=upload.read(),
                name=form.cleaned_data["name"],
                input_name=upload.name or "",
            )
        except CharacterError as error:
            _form_error(form, error, default_field="file")
        else:
            if isinstance(started, BackgroundJob):
                messages.info(request, f"{upload.name} is big: it is being imported in the background.")
                return redirect("job", started.pk)
            messages.success(request, f"{started.name} is imported.")
            return redirect("characters:lorebook", started.pk)
    return _lorebooks_page(request, create_form=LorebookCreateForm(), import_form=form)


@login_required
def lorebook_edit(request: HttpRequest, lorebook_id: int) -> HttpResponse:
    book = selectors.lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
    form = LorebookForm(*_posted(request), initial=LorebookForm.initial_for(book))
    if request.method == "POST" and form.is_valid():
        services.lorebook_update(book=book, data=form.cleaned_data)
        messages.success(request, "The lorebook settings are saved.")
        return redirect("characters:lorebook", book.pk)
    entries = [
        (entry, POSITION_SHORT_LABELS.get(entry.position, entry.position)) for entry in book.entries.all()
    ]
    context = {"book": book, "form": form, "entries": entries}
    return render(request, "characters/lorebook.html", context)


@login_required
@require_POST
def lorebook_delete(request: HttpRequest, lorebook_id: int) -> HttpResponse:
    book = selectors.lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
    services.lorebook_delete(book=book)
    messages.success(request, f"{book.name} is deleted.")
    return redirect("characters:lorebooks")


@login_required
@require_GET
def lorebook_export(request: HttpRequest, lorebook_id: int) -> HttpResponse:
    book = selectors.lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
    content = dump_json_bytes(world_to_sillytavern(lorebook_value(book)), indent=2)
    return _download(
        content, filename=f"{slugify(book.name) or 'lorebook'}.json", content_type="application/json"
    )


@login_required
def lorebook_entry_edit(request: HttpRequest, lorebook_id: int, entry_id: int | None = None) -> HttpResponse:
    book = selectors.lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
    entry = None if entry_id is None else selectors.lorebook_entry_get_owned(lorebook=book, entry_id=entry_id)
    initial = LorebookEntryForm.initial_for(entry) if entry else _new_entry_initial()
    form = LorebookEntryForm(*_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.lorebook_entry_save(book=book, entry=entry, data=form.cleaned_data)
        except CharacterError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"The entry “{saved}” is saved.")
            return redirect("characters:lorebook", book.pk)
    return render(request, "characters/lorebook_entry.html", {"book": book, "entry": entry, "form": form})


def _new_entry_initial() -> dict[str, Any]:
    blank = LorebookEntryValue()
    return {
        name: getattr(blank, name).value if hasattr(getattr(blank, name), "value") else getattr(blank, name)
        for name in LorebookEntryForm.base_fields
    }


@login_required
@require_POST
def lorebook_entry_delete(request: HttpRequest, lorebook_id: int, entry_id: int) -> HttpResponse:
    book = selectors.lorebook_get_owned(lorebook_id=lorebook_id, user=request.user)
    entry = selectors.lorebook_entry_get_owned(lorebook=book, entry_id=entry_id)
    services.lorebook_entry_delete(entry=entry)
    messages.success(request, f"The entry “{entry}” is deleted.")
    return redirect("characters:lorebook", book.pk)


# ---------------------------------------------------------------- personas


@login_required
@require_GET
def persona_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    personas = selectors.personas_owned(user=request.user)
    return render(request, "characters/personas.html", {"personas": personas, "section": "personas"})


@login_required
def persona_edit(request: AuthenticatedHttpRequest, persona_id: int | None = None) -> HttpResponse:
    persona = None
    if persona_id is not None:
        persona = selectors.persona_get_owned(persona_id=persona_id, user=request.user)
    initial = PersonaForm.initial_for(persona) if persona else {"depth": 2}
    form = PersonaForm(*_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.persona_save(
                owner=request.user,
                persona=persona,
                data=form.data_for_service(),
                avatar_png=form.avatar_bytes(),
            )
        except (CharacterError, CardError) as error:
            _form_error(form, error, default_field="avatar")
        else:
            messages.success(request, f"{saved.name} is saved.")
            return redirect("characters:personas")
    context = {"form": form, "persona": persona, "section": "personas"}
    return render(request, "characters/persona_edit.html", context)


@login_required
@require_POST
def persona_delete(request: HttpRequest, persona_id: int) -> HttpResponse:
    persona = selectors.persona_get_owned(persona_id=persona_id, user=request.user)
    services.persona_delete(persona=persona)
    messages.success(request, f"{persona.name} is deleted.")
    return redirect("characters:personas")
