"""Back office for the character library. Writes go through `characters.services`:
moderation actions, the few settings a moderator may change, lorebook edits."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html

from .models import Category, Character, CharacterVersion, Lorebook, LorebookEntry, Persona, Tag
from .services import (
    character_delete,
    character_moderate,
    character_update,
    lorebook_entry_delete,
    lorebook_entry_save,
    lorebook_update,
    persona_save,
)

# ---------------------------------------------------------------- characters


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "In the trash"), ("no", "Alive")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Character]) -> QuerySet[Character]:
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class CharacterVersionInline(admin.TabularInline):
    model = CharacterVersion
    fields = ("number", "change_summary", "author", "created_at")
    readonly_fields = fields
    ordering = ("-number",)
    extra = 0
    show_change_link = True
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CharacterVersion]:
        return super().get_queryset(request).select_related("author")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Settings a moderator may change in the form; everything else is the owner's card.
_CHARACTER_SETTINGS = ("visibility", "is_nsfw", "language")
_CHARACTER_FLAGS = {"is_hidden": ("hide", "unhide"), "is_featured": ("feature", "unfeature")}


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "visibility",
        "is_nsfw",
        "is_hidden",
        "is_featured",
        "chat_count",
        "favourite_count",
        "rating_count",
        "created_at",
    )
    list_filter = ("visibility", "is_nsfw", "is_hidden", "is_featured", "language", DeletedFilter)
    search_fields = ("name", "owner__username", "creator", "tag_text")
    list_select_related = ("owner",)
    show_full_result_count = False  # one COUNT(*) of a big table per page is enough
    inlines = [CharacterVersionInline]
    fieldsets = (
        (None, {"fields": ("name", "owner", "slug", "avatar_preview", "tag_text", "book", "forked_from")}),
        ("Moderation", {"fields": (*_CHARACTER_SETTINGS, *_CHARACTER_FLAGS)}),
        (
            "Card",
            {
                "classes": ("collapse",),
                "fields": (
                    "nickname",
                    "creator",
                    "character_version",
                    "description",
                    "personality",
                    "scenario",
                    "first_mes",
                    "alternate_greetings",
                    "mes_example",
                    "system_prompt",
                    "post_history_instructions",
                    "creator_notes",
                ),
            },
        ),
        (
            "Counts",
            {"fields": ("chat_count", "favourite_count", "rating_count", "rating_sum")},
        ),
        (
            "Technical",
            {
                "classes": ("collapse",),
                "fields": (
                    "content_hash",
                    "embedding_hash",
                    "embedding_state",
                    "created_at",
                    "updated_at",
                    "deleted_at",
                ),
            },
        ),
    )
    readonly_fields = (
        "name",
        "owner",
        "slug",
        "avatar_preview",
        "tag_text",
        "book",
        "forked_from",
        "nickname",
        "creator",
        "character_version",
        "description",
        "personality",
        "scenario",
        "first_mes",
        "alternate_greetings",
        "mes_example",
        "system_prompt",
        "post_history_instructions",
        "creator_notes",
        "chat_count",
        "favourite_count",
        "rating_count",
        "rating_sum",
        "content_hash",
        "embedding_hash",
        "embedding_state",
        "created_at",
        "updated_at",
        "deleted_at",
    )
    actions = ["hide", "unhide", "mark_nsfw", "feature", "unfeature", "move_to_trash", "restore"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Character]:
        # A page of 100 rows need not carry 100 vectors and search documents.
        return super().get_queryset(request).defer("embedding", "search_vector")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # characters come from their owners (editor, import), not the back office

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the trash action keeps versions and chats; a hard delete would not

    @admin.display(description="avatar")
    def avatar_preview(self, character: Character) -> str:
        if not character.avatar:
            return "—"
        return format_html('<img src="{}" alt="" width="128" height="128">', character.avatar.url)

    @admin.display(description="embedding")
    def embedding_state(self, character: Character) -> str:
        if character.embedding is None:
            return "not embedded yet"
        if character.embedding_hash != character.content_hash:
            return "stale (content changed since)"
        return f"up to date ({len(character.embedding)} dimensions)"

    def save_model(self, request: HttpRequest, obj: Character, form: forms.ModelForm, change: bool) -> None:
        settings_data = {
            name: form.cleaned_data[name] for name in _CHARACTER_SETTINGS if name in form.changed_data
        }
        if settings_data:
            character_update(character=obj, editor=request.user, settings_data=settings_data)  # type: ignore[arg-type]
        for flag, (on, off) in _CHARACTER_FLAGS.items():
            if flag in form.changed_data:
                character_moderate(character=obj, action=on if form.cleaned_data[flag] else off)

    def _moderate(self, request: HttpRequest, queryset: QuerySet[Character], action: str, done: str) -> None:
        characters = list(queryset)
        for character in characters:
            character_moderate(character=character, action=action)
        self.message_user(request, f"{len(characters)} character(s) {done}.", messages.SUCCESS)

    @admin.action(description="Hide selected characters", permissions=["change"])
    def hide(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        self._moderate(request, queryset, "hide", "hidden")

    @admin.action(description="Unhide selected characters", permissions=["change"])
    def unhide(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        self._moderate(request, queryset, "unhide", "unhidden")

    @admin.action(description="Mark selected characters NSFW", permissions=["change"])
    def mark_nsfw(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        self._moderate(request, queryset, "mark_nsfw", "marked NSFW")

    @admin.action(description="Feature selected characters", permissions=["change"])
    def feature(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        self._moderate(request, queryset, "feature", "featured")

    @admin.action(description="Stop featuring selected characters", permissions=["change"])
    def unfeature(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        self._moderate(request, queryset, "unfeature", "no longer featured")

    @admin.action(description="Restore selected characters from the trash", permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        self._moderate(request, queryset, "restore", "restored")

    @admin.action(description="Move selected characters to the trash", permissions=["change"])
    def move_to_trash(self, request: HttpRequest, queryset: QuerySet[Character]) -> None:
        characters = list(queryset)
        for character in characters:
            character_delete(character=character)
        self.message_user(request, f"{len(characters)} character(s) moved to the trash.", messages.SUCCESS)


@admin.register(CharacterVersion)
class CharacterVersionAdmin(admin.ModelAdmin):
    """Versions are immutable snapshots: readable here, never edited."""

    list_display = ("character", "number", "change_summary", "author", "created_at")
    search_fields = ("character__name", "character__owner__username", "change_summary")
    list_select_related = ("character", "author")
    raw_id_fields = ("character",)
    fields = ("character", "number", "change_summary", "author", "created_at", "snapshot_json")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="snapshot")
    def snapshot_json(self, version: CharacterVersion) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(version.snapshot, indent=2, ensure_ascii=False, sort_keys=True)
        )


# ---------------------------------------------------------------- tags, categories


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "character_count", "created_at")
    search_fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(character_count=Count("characters"))

    def get_readonly_fields(self, request: HttpRequest, obj: Tag | None = None) -> tuple[str, ...]:
        # A rename would leave every tagged character's search text behind; it needs a service.
        return ("name", "created_at") if obj is not None else ("created_at",)

    @admin.display(description="characters", ordering="character_count")
    def character_count(self, tag: Tag) -> int:
        return tag.character_count  # type: ignore[attr-defined]


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("name", "slug", "parent", "position")

    def clean_parent(self) -> Category | None:
        parent = self.cleaned_data["parent"]
        ancestor = parent
        while ancestor is not None and self.instance.pk is not None:
            if ancestor.pk == self.instance.pk:
                raise forms.ValidationError("A category cannot sit under itself or one of its children.")
            ancestor = ancestor.parent
        return parent


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ("path", "slug", "parent", "position", "character_count")
    list_editable = ("position",)
    list_filter = ("parent",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    # Three levels of parents in the one query; deeper trees cost one query per extra level.
    list_select_related = ("parent__parent__parent",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(character_count=Count("characters"))

    @admin.display(description="category", ordering="name")
    def path(self, category: Category) -> str:
        names = []
        node: Category | None = category
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    @admin.display(description="characters", ordering="character_count")
    def character_count(self, category: Category) -> int:
        return category.character_count  # type: ignore[attr-defined]


# ---------------------------------------------------------------- lorebooks


_ENTRY_FIELDS = ("keys", "comment", "content", "position", "order", "disabled")


class LorebookEntryFormSet(BaseInlineFormSet):
    """Changed entries go through `lorebook_entry_save`, removed ones through
    `lorebook_entry_delete`, as in the editor (the book's `updated_at` follows)."""

    def save(self, commit: bool = True) -> list[LorebookEntry]:
        book = self.instance
        # Read by the admin's change message, as a model formset's own save() would set them.
        self.new_objects: list[LorebookEntry] = []
        self.changed_objects: list[tuple[LorebookEntry, list[str]]] = []
        self.deleted_objects: list[LorebookEntry] = []
        for form in self.initial_forms:
            if self.can_delete and form.cleaned_data.get("DELETE"):
                lorebook_entry_delete(entry=form.instance)
                self.deleted_objects.append(form.instance)
            elif form.has_changed():
                data = {name: form.cleaned_data[name] for name in form.changed_data if name in _ENTRY_FIELDS}
                lorebook_entry_save(book=book, entry=form.instance, data=data)
                self.changed_objects.append((form.instance, form.changed_data))
        for form in self.extra_forms:
            if form.has_changed() and not form.cleaned_data.get("DELETE"):
                data = {name: form.cleaned_data[name] for name in _ENTRY_FIELDS}
                self.new_objects.append(lorebook_entry_save(book=book, entry=None, data=data))
        return [entry for entry, _ in self.changed_objects] + self.new_objects


class LorebookEntryInline(admin.TabularInline):
    model = LorebookEntry
    formset = LorebookEntryFormSet
    fields = _ENTRY_FIELDS
    extra = 0
    show_change_link = False


@admin.register(Lorebook)
class LorebookAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_global", "entry_count", "updated_at")
    list_filter = ("is_global",)
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)
    fields = (
        "name",
        "owner",
        "description",
        "is_global",
        "scan_depth",
        "token_budget",
        "recursive_scanning",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("owner", "created_at", "updated_at")
    inlines = [LorebookEntryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Lorebook]:
        return super().get_queryset(request).annotate(entry_count=Count("entries"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # lorebooks belong to users; they make them in the editor or by import

    @admin.display(description="entries", ordering="entry_count")
    def entry_count(self, book: Lorebook) -> int:
        return book.entry_count  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: Lorebook, form: forms.ModelForm, change: bool) -> None:
        lorebook_update(book=obj, data={name: form.cleaned_data[name] for name in form.changed_data})


# ---------------------------------------------------------------- personas


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_default", "description_position", "updated_at")
    list_filter = ("is_default", "description_position")
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)
    fields = (
        "name",
        "owner",
        "avatar",
        "description",
        "is_default",
        "description_position",
        "depth",
        "role",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("owner", "avatar", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Persona, form: forms.ModelForm, change: bool) -> None:
        persona_save(
            owner=obj.owner,
            persona=obj,
            data={name: form.cleaned_data[name] for name in form.changed_data},
        )
