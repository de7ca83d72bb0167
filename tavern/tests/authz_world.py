"""The objects the authorization matrix acts on, and the actors who try.

A `World` builds each object on first use, through the services and factories
users' own actions go through, so a matrix case pays only for what its row
names. Everything belongs to `owner` unless its name says `stranger_` (a third
user, for another user's objects named in the owner's own request). Names,
tags, titles and secrets carry `MARKER`, so a row can ask whether a response
shows them.
"""

from __future__ import annotations

import datetime
from functools import cached_property
from typing import Any

from django.contrib.auth.models import Group
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import ApiKey, ContentFilter, User
from accounts.services import api_key_create
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory, staff_with_role
from characters.models import Character, Lorebook, LorebookEntry, Persona, Visibility
from characters.services import character_delete, character_moderate, persona_save
from characters.tests.factories import CharacterFactory, card_data, make_lorebook
from chats.models import Chat, Message, ModelConnection, Preset
from chats.services import connection_save, preset_save
from chats.tests.factories import make_chat
from tavern.models import BackgroundJob

MARKER = "Zephyrine"
# Nothing listens on the discard port: a connection test fails at once, without a network.
UNREACHABLE_BASE_URL = f"http://127.0.0.1:9/{MARKER.lower()}/v1"

# Which object fills a URL parameter when the row does not say.
DEFAULT_OBJECTS = {
    "character_id": "character",
    "chat_id": "chat",
    "message_id": "message",
    "lorebook_id": "lorebook",
    "entry_id": "entry",
    "persona_id": "persona",
    "connection_id": "connection",
    "preset_id": "preset",
    "key_id": "api_key",
    "job_id": "job",
    "username": "owner",
    "model": "character",
    "number": "first_version",
    "fmt": "card_format",
}


def _character(owner: User, label: str, **options: Any) -> Character:
    card = card_data(name=f"{MARKER} {label}", tags=[f"{MARKER}-tag"])
    return CharacterFactory(owner=owner, card=card, **options)


def _connection(owner: User | None, name: str, **data: Any) -> ModelConnection:
    values = {"name": name, "base_url": UNREACHABLE_BASE_URL, "model": "m", **data}
    return connection_save(owner=owner, connection=None, data=values, api_key=f"sk-{MARKER}-0000")


def _moderator() -> User:
    """A back-office account in the moderator role.

    The role's group comes from a data migration; a transactional test's flush
    empties it (those tests run last, after every other). Then the account is
    put in a group of the same name, without the permissions: nothing outside
    the admin reads them, which is what the matrix shows.
    """
    if Group.objects.filter(name="moderator").exists():
        return staff_with_role("moderator")
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.create(name="moderator"))
    return user


class World:
    """One matrix case's objects and actors, built lazily."""

    def __init__(self) -> None:
        self.owner = UserFactory(bio=f"{MARKER} writes maps.")

    # ------------------------------------------------------------ actors

    def actor(self, name: str) -> User | None:
        if name == "owner":
            return self.owner
        if name == "other":
            return UserFactory()
        if name == "moderator":
            return _moderator()
        if name == "adult":
            # Another user who may see NSFW: an adult who opted in and filters mildly.
            return UserFactory(
                birth_date=datetime.date(1990, 1, 1), show_nsfw=True, content_filter=ContentFilter.MILD
            )
        if name == "anonymous":
            return None
        raise ValueError(f"no actor {name!r}")

    @staticmethod
    def sign_in(client: Client, user: User, surface: str) -> None:
        """As each surface is used: pages by session, the API by JWT, /v1 by a personal API key."""
        if surface == "page":
            client.force_login(user)
        elif surface == "api":
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {AccessToken.for_user(user)}"
        else:
            raw_key = api_key_create(user=user, name="matrix").raw_key
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"

    @cached_property
    def stranger(self) -> User:
        return UserFactory()

    @cached_property
    def banned(self) -> User:
        return UserFactory(is_active=False)

    # ------------------------------------------------------------ characters

    @cached_property
    def character(self) -> Character:
        return _character(self.owner, "private")

    @cached_property
    def public_character(self) -> Character:
        return _character(self.owner, "public", visibility=Visibility.PUBLIC)

    @cached_property
    def unlisted_character(self) -> Character:
        return _character(self.owner, "unlisted", visibility=Visibility.UNLISTED)

    @cached_property
    def nsfw_character(self) -> Character:
        return _character(self.owner, "nsfw", visibility=Visibility.PUBLIC, is_nsfw=True)

    @cached_property
    def deleted_character(self) -> Character:
        """Public once, now in its owner's trash."""
        return character_delete(character=_character(self.owner, "trashed", visibility=Visibility.PUBLIC))

    @cached_property
    def hidden_character(self) -> Character:
        """Public, hidden by a moderator."""
        character = _character(self.owner, "hidden", visibility=Visibility.PUBLIC)
        return character_moderate(character=character, action="hide")

    @cached_property
    def stranger_character(self) -> Character:
        return _character(self.stranger, "stranger's private")

    @property
    def first_version(self) -> int:
        return 1

    @property
    def card_format(self) -> str:
        return "json-v3"

    # ------------------------------------------------------------ lorebooks, personas

    @cached_property
    def lorebook(self) -> Lorebook:
        return make_lorebook(self.owner, name=f"{MARKER} lore")

    @cached_property
    def entry(self) -> LorebookEntry:
        return self.lorebook.entries.order_by("sort_index", "id").first()  # type: ignore[return-value]

    @cached_property
    def stranger_lorebook(self) -> Lorebook:
        return make_lorebook(self.stranger, name=f"{MARKER} stranger's lore")

    @cached_property
    def stranger_entry(self) -> LorebookEntry:
        return self.stranger_lorebook.entries.order_by("sort_index", "id").first()  # type: ignore[return-value]

    @cached_property
    def persona(self) -> Persona:
        return persona_save(owner=self.owner, persona=None, data={"name": f"{MARKER} persona"})

    @cached_property
    def stranger_persona(self) -> Persona:
        return persona_save(owner=self.stranger, persona=None, data={"name": f"{MARKER} stranger"})

    # ------------------------------------------------------------ chats

    @cached_property
    def chat(self) -> Chat:
        return make_chat(self.owner, self.character)

    @cached_property
    def message(self) -> Message:
        """The chat's greeting: a reply of its character."""
        return self.chat.messages.get()

    @cached_property
    def group_chat(self) -> Chat:
        """Two characters, so one may leave."""
        return make_chat(self.owner, self.character, self.public_character)

    @cached_property
    def stranger_message(self) -> Message:
        return make_chat(self.stranger, self.stranger_character).messages.get()

    @cached_property
    def connection(self) -> ModelConnection:
        return _connection(self.owner, f"{MARKER} connection")

    @cached_property
    def shared_connection(self) -> ModelConnection:
        """Defined by staff for the free tier: its name is shown to its users; its address and
        headers (the marker) are staff's business."""
        return _connection(
            None, "Staff's shared", allowed_tiers=["free"], extra_headers={"X-Organisation": f"{MARKER}-org"}
        )

    @cached_property
    def stranger_connection(self) -> ModelConnection:
        return _connection(self.stranger, f"{MARKER} stranger's")

    @cached_property
    def preset(self) -> Preset:
        return preset_save(
            owner=self.owner, preset=None, data={"name": f"{MARKER} preset", "temperature": 0.7}
        )

    @cached_property
    def stranger_preset(self) -> Preset:
        return preset_save(owner=self.stranger, preset=None, data={"name": f"{MARKER} stranger"})

    # ------------------------------------------------------------ accounts

    @cached_property
    def job(self) -> BackgroundJob:
        # The row alone: no worker runs in the matrix, and none should be sent anything.
        return BackgroundJob.objects.create(
            owner=self.owner, kind="lorebook_import", input_name=f"{MARKER}.json"
        )

    @cached_property
    def api_key(self) -> ApiKey:
        return api_key_create(user=self.owner, name=f"{MARKER} key").key

    @cached_property
    def password(self) -> str:
        return DEFAULT_PASSWORD

    @cached_property
    def refresh_token(self) -> str:
        return str(RefreshToken.for_user(self.owner))

    @cached_property
    def access_token(self) -> str:
        return str(AccessToken.for_user(self.owner))

    # ------------------------------------------------------------ URL parameters

    def url_value(self, parameter: str, name: str | None) -> object:
        """What fills `parameter`: the named object's id (its username, slug), or the value itself."""
        value = getattr(self, name or DEFAULT_OBJECTS[parameter])
        if parameter == "username":
            return value.username
        if parameter == "model":
            return value.slug
        return getattr(value, "pk", value)
