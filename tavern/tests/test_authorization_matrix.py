"""The authorization matrix: every endpoint, every kind of caller, and what each gets.

Every route of the root URL conf and every socket route has a row per method
(pages, the REST API under /api/v1/, the OpenAI-compatible /v1/, health, schema),
but those excluded below with a reason. A new endpoint without a row fails
`test_every_endpoint_has_a_row` by name; a row whose endpoint went away fails
`test_every_row_names_a_served_endpoint`.

The callers: the `owner` of the objects a row acts on; `other`, another user;
`moderator`, a back-office account in the moderator role (where an object is
private: the back office is no way into users' data); `adult`, another user who
may see NSFW (where that matters); `anonymous`. The rules encoded:

- another user's private object looks missing: 404, never 403, on every surface;
- a public or unlisted character is readable by anyone (anonymous included, except
  NSFW ones: only for adults who opted in); changing it stays its owner's (404);
- anonymous callers get the API's 401 in its error shape, /v1's 401 in OpenAI's,
  a redirect to the login page on pages;
- lists and creates act on the caller's own things: they answer everyone signed
  in, and show nobody else's (`sees`, checked with the objects' marker text).

Rows for known open holes carry the hole as a strict xfail: they turn red when the
hole is closed, and the mark is then removed.

A new endpoint: add a row per method to HTTP_ROWS (or SOCKET_ROWS), its callers'
outcomes from the helpers below (`private`, `own`, `listing`, `everyone`, `nsfw`,
`foreign`), more rows for the cases that differ (a public object, another user's
object named in the body). A new kind of object: a builder on `World`
(tavern/tests/authz_world.py), named after the URL parameter it fills.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from characters.cards import world_to_sillytavern
from characters.tests.factories import card_png_bytes, lorebook_value
from tavern.asgi import application
from tavern.routing import websocket_urlpatterns
from tavern.testing.authz import (
    SOCKET,
    Endpoint,
    Outcome,
    Row,
    endpoints_without_rows,
    http_endpoints,
    matrix_params,
    rows_missing_an_actor,
    rows_without_endpoints,
    socket_endpoints,
)
from tavern.testing.sockets import TestSocket
from tavern.tests.authz_world import MARKER, World

pytestmark = pytest.mark.django_db

# Path prefixes the matrix leaves to others, each with its reason.
EXCLUDED = {
    "admin/": "the Django admin: staff only, its permissions and audit covered by the apps' test_admin*.py",
    "accounts/": "allauth's sign-in, sign-up, e-mail and password pages: public by design (accounts/tests)",
    settings.MEDIA_URL.lstrip("/"): "uploaded files, served by the URL conf in DEBUG only",
}

OK, CREATED, ACCEPTED, NO_CONTENT = Outcome(200), Outcome(201), Outcome(202), Outcome(204)
REDIRECT, LOGIN = Outcome(302), Outcome(302, login=True)
INVALID, UNAUTHENTICATED, FORBIDDEN, MISSING = Outcome(400), Outcome(401), Outcome(403), Outcome(404)
SEES, BLIND = OK.but(sees=True), OK.but(sees=False)
NSFW_REFUSED = MISSING  # L5: the content filter holds on every path
ACCEPTED_SOCKET = Outcome(101)

# Which character (or connection) a row acts on, when not the owner's private one.
PUBLIC = {"character_id": "public_character"}
UNLISTED = {"character_id": "unlisted_character"}
NSFW = {"character_id": "nsfw_character"}
TRASHED = {"character_id": "deleted_character"}
HIDDEN = {"character_id": "hidden_character"}
SHARED = {"connection_id": "shared_connection"}

METRICS_TOKEN = "matrix-metrics-token"
METRICS_TOKEN_SET = {"METRICS_TOKEN": METRICS_TOKEN}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def private(
    ok: Outcome, *, refused: Outcome = MISSING, anonymous: Outcome = UNAUTHENTICATED
) -> dict[str, Outcome]:
    """The owner's alone: to anyone else (a moderator too) it looks missing."""
    return {"owner": ok, "other": refused, "moderator": refused, "anonymous": anonymous}


def private_page(ok: Outcome) -> dict[str, Outcome]:
    return private(ok, anonymous=LOGIN)


def own(ok: Outcome, *, anonymous: Outcome = UNAUTHENTICATED) -> dict[str, Outcome]:
    """Every signed-in user acts on their own things here (a create, a setting)."""
    return {"owner": ok, "other": ok, "anonymous": anonymous}


def listing(*, anonymous: Outcome = UNAUTHENTICATED) -> dict[str, Outcome]:
    """The caller's own list: the owner's objects show for the owner and nobody else."""
    return {"owner": SEES, "other": BLIND, "moderator": BLIND, "anonymous": anonymous}


def everyone(ok: Outcome) -> dict[str, Outcome]:
    """Public: the same for anyone, signed in or not (a public or unlisted character)."""
    return {"owner": ok, "other": ok, "anonymous": ok}


def nsfw(ok: Outcome, *, anonymous: Outcome = NSFW_REFUSED) -> dict[str, Outcome]:
    """A public NSFW character: its owner and adults who opted in, nobody else."""
    return {"owner": ok, "other": NSFW_REFUSED, "adult": ok, "anonymous": anonymous}


def search(*, owner: bool, other: bool, adult: bool, anonymous: bool) -> dict[str, Outcome]:
    """The public library: who finds the row's character in it."""
    return {
        "owner": OK.but(sees=owner),
        "other": OK.but(sees=other),
        "adult": OK.but(sees=adult),
        "anonymous": OK.but(sees=anonymous),
    }


NOBODY_FINDS = search(owner=False, other=False, adult=False, anonymous=False)


def shared(signed_in: Outcome, *, anonymous: Outcome = UNAUTHENTICATED) -> dict[str, Outcome]:
    """A connection staff share with the free tier: the owner of the row's objects is one more user."""
    return {"owner": signed_in, "other": signed_in, "moderator": signed_in, "anonymous": anonymous}


def foreign(*, anonymous: Outcome = UNAUTHENTICATED) -> dict[str, Outcome]:
    """The owner names another user's object in their own request: it looks missing."""
    return {"owner": MISSING, "other": MISSING, "anonymous": anonymous}


def foreign_in_body(*, other: Outcome = MISSING, anonymous: Outcome = UNAUTHENTICATED) -> dict[str, Outcome]:
    """The owner names another user's object by id in the body: invalid input, naming the
    field (tavern/api/references.py), never the object. `other`: what another user gets,
    whose own path object (the owner's chat) is missing to them first."""
    return {"owner": INVALID, "other": other, "anonymous": anonymous}


# ---------------------------------------------------------------- bodies


def _upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def card_file(_: World) -> dict[str, Any]:
    return {"file": _upload("card.png", card_png_bytes(name="Imported"), "image/png")}


def world_file(_: World) -> dict[str, Any]:
    world = json.dumps(world_to_sillytavern(lorebook_value(name="Imported lore"))).encode()
    return {"file": _upload("world.json", world, "application/json")}


def preset_file(_: World) -> dict[str, Any]:
    return {"file": _upload("preset.json", b'{"temperature": 0.8}', "application/json")}


def card_files(_: World) -> dict[str, Any]:
    return {"files": [_upload("card.png", card_png_bytes(name="Imported"), "image/png")]}


def chat_file(character: str, *, field: str = "character_id") -> Any:
    """A SillyTavern chat file naming nobody the importer has: its character is given by id
    (which character a caller may name is the point)."""

    def data(world: World) -> dict[str, Any]:
        lines = b'{"user_name": "You", "character_name": "Someone"}\n{"name": "Someone", "mes": "Hello."}\n'
        chosen = getattr(world, character)
        return {"file": _upload("chat.jsonl", lines, "application/jsonl"), field: chosen.pk}

    return data


CHARACTER_FORM = {"name": "Nia", "visibility": "private", "language": "en", "tags": ""}
LOREBOOK_FORM = {"name": "Renamed", "description": "", "recursive_scanning": "unknown"}
ENTRY_FORM = {
    "keys": "harbour",
    "secondary_keys": "",
    "selective_logic": "and_any",
    "content": "Ships come and go.",
    "position": "before_char",
    "depth": "4",
    "role": "system",
    "order": "100",
    "probability": "100",
    "use_probability": "on",
    "group_weight": "100",
    "case_sensitive": "unknown",
    "match_whole_words": "unknown",
}
PERSONA_FORM = {
    "name": "Wanderer",
    "description": "",
    "description_position": "in_prompt",
    "depth": "2",
    "role": "system",
}
CONNECTION_FORM = {
    "name": "Local",
    "base_url": "http://127.0.0.1:9/v1",
    "model": "m",
    "context_size": "8192",
    "max_reply_tokens": "400",
}
COMPLETION = {"messages": [{"role": "user", "content": "Hello?"}]}


def completion(world: World) -> dict[str, Any]:
    return {"model": world.character.slug, **COMPLETION}


def page(route: str, method: str, expect: dict[str, Outcome], **options: Any) -> Row:
    """A page: forms are posted as a browser posts them."""
    return Row(route, method, expect, format="multipart", **options)


# ---------------------------------------------------------------- the matrix

# One row per line: a table reads down its columns (route, method, who gets what, case, objects, body).
# fmt: off
HTTP_ROWS: list[Row] = [
    # ------------------------------------------------------------ public, health, schema
    page("home", "GET", everyone(OK)),
    page("healthz", "GET", everyone(OK)),
    # Ready or not depends on a Celery worker answering, not on the caller.
    page("readyz", "GET", everyone(Outcome((200, 503)))),
    # For the scraper, told apart by its token or its address, never by an account: off
    # (404) until configured, then 403 to anyone else (the test client is 127.0.0.1).
    page("metrics", "GET", everyone(MISSING), case="off: no token, no allowed address"),
    page("metrics", "GET", everyone(FORBIDDEN), case="no token given", settings=METRICS_TOKEN_SET),
    page("metrics", "GET", everyone(FORBIDDEN), case="a wrong token", settings=METRICS_TOKEN_SET, headers=bearer("not-the-token")),
    page("metrics", "GET", everyone(OK), case="the right token", settings=METRICS_TOKEN_SET, headers=bearer(METRICS_TOKEN)),
    page("metrics", "GET", everyone(OK), case="from an allowed address", settings={"METRICS_ALLOWED_IPS": ["127.0.0.0/8"]}),
    page("metrics", "GET", everyone(FORBIDDEN), case="from another address", settings={"METRICS_ALLOWED_IPS": ["10.0.0.0/8"]}),
    page("metrics", "GET", everyone(FORBIDDEN), case="a forwarded address from an untrusted peer", settings={"METRICS_ALLOWED_IPS": ["10.0.0.0/8"]}, headers={"HTTP_X_FORWARDED_FOR": "10.0.0.5"}),
    page("schema", "GET", everyone(OK)),
    page("swagger-ui", "GET", everyone(OK)),
    # ------------------------------------------------------------ account pages
    page("profile", "GET", everyone(SEES)),
    page("profile", "GET", everyone(MISSING), case="banned account", objects={"username": "banned"}),
    page("settings", "GET", everyone(REDIRECT)),
    page("settings_profile", "GET", listing(anonymous=LOGIN)),
    page("settings_profile", "POST", own(REDIRECT, anonymous=LOGIN), data={"display_name": "Renamed", "locale": "en"}),
    page("settings_content", "GET", own(OK, anonymous=LOGIN)),
    page("settings_content", "POST", own(REDIRECT, anonymous=LOGIN), data={"content_filter": "moderate"}),
    page("job", "GET", private_page(OK)),
    page("settings_api_keys", "GET", listing(anonymous=LOGIN), builds=("api_key",)),
    page("settings_api_keys", "POST", own(OK, anonymous=LOGIN), data={"name": "laptop"}),
    page("settings_api_key_revoke", "POST", private_page(REDIRECT)),
    # ------------------------------------------------------------ character pages
    page("characters:browse", "GET", search(owner=True, other=True, adult=True, anonymous=True), case="public", builds=("public_character",)),
    page("characters:browse", "GET", NOBODY_FINDS, case="private", builds=("character",)),
    page("characters:browse", "GET", search(owner=False, other=False, adult=True, anonymous=False), case="nsfw", builds=("nsfw_character",)),
    page("characters:browse", "GET", NOBODY_FINDS, case="unlisted", builds=("unlisted_character",)),
    page("characters:browse", "GET", NOBODY_FINDS, case="trashed", builds=("deleted_character",)),
    page("characters:browse", "GET", NOBODY_FINDS, case="hidden by a moderator", builds=("hidden_character",)),
    page("characters:create", "GET", own(OK, anonymous=LOGIN)),
    page("characters:create", "POST", own(REDIRECT, anonymous=LOGIN), data=CHARACTER_FORM),
    page("characters:import", "GET", own(OK, anonymous=LOGIN)),
    page("characters:import", "POST", own(OK, anonymous=LOGIN), data=card_files),
    page("characters:mine", "GET", listing(anonymous=LOGIN), builds=("character",)),
    # The edit page's script posts JSON.
    Row("characters:tokens", "POST", own(OK, anonymous=LOGIN), data={"texts": {"a": "Hello"}}),
    page("characters:detail", "GET", private(OK, anonymous=MISSING), case="private"),
    page("characters:detail", "GET", everyone(OK), case="public", objects=PUBLIC),
    page("characters:detail", "GET", everyone(OK), case="unlisted", objects=UNLISTED),
    page("characters:detail", "GET", nsfw(OK), case="nsfw", objects=NSFW),
    page("characters:detail", "GET", private(OK, anonymous=MISSING), case="trashed", objects=TRASHED),
    page("characters:detail", "GET", private(OK, anonymous=MISSING), case="hidden by a moderator", objects=HIDDEN),
    page("characters:edit", "GET", private_page(OK)),
    page("characters:edit", "POST", private_page(REDIRECT), case="private", data=CHARACTER_FORM),
    page("characters:edit", "POST", private_page(REDIRECT), case="public", objects=PUBLIC, data=CHARACTER_FORM),
    page("characters:delete", "POST", private_page(REDIRECT), case="private"),
    page("characters:delete", "POST", private_page(REDIRECT), case="public", objects=PUBLIC),
    page("characters:restore", "POST", private_page(REDIRECT), objects=TRASHED),
    page("characters:favourite", "POST", private_page(REDIRECT), case="private", data={"on": "1"}),
    page("characters:favourite", "POST", own(REDIRECT, anonymous=LOGIN), case="public", objects=PUBLIC, data={"on": "1"}),
    page("characters:fork", "POST", private_page(REDIRECT), case="private"),
    page("characters:fork", "POST", own(REDIRECT, anonymous=LOGIN), case="public", objects=PUBLIC),
    page("characters:fork", "POST", nsfw(REDIRECT, anonymous=LOGIN), case="nsfw", objects=NSFW),
    page("characters:export", "GET", private(OK, anonymous=MISSING), case="private"),
    page("characters:export", "GET", everyone(OK), case="public", objects=PUBLIC),
    page("characters:export", "GET", nsfw(OK), case="nsfw", objects=NSFW),
    page("characters:versions", "GET", private_page(OK), case="private"),
    page("characters:versions", "GET", private_page(OK), case="public", objects=PUBLIC),
    page("characters:version_restore", "POST", private_page(REDIRECT)),
    page("characters:lorebooks", "GET", listing(anonymous=LOGIN), builds=("lorebook",)),
    page("characters:lorebooks", "POST", own(REDIRECT, anonymous=LOGIN), data={"name": "Atlas"}),
    page("characters:lorebook_import", "POST", own(REDIRECT, anonymous=LOGIN), data=world_file),
    page("characters:lorebook", "GET", private_page(OK)),
    page("characters:lorebook", "POST", private_page(REDIRECT), data=LOREBOOK_FORM),
    page("characters:lorebook_delete", "POST", private_page(REDIRECT)),
    page("characters:lorebook_export", "GET", private_page(OK)),
    page("characters:lorebook_entry_new", "GET", private_page(OK)),
    page("characters:lorebook_entry_new", "POST", private_page(REDIRECT), data=ENTRY_FORM),
    page("characters:lorebook_entry", "GET", private_page(OK)),
    page("characters:lorebook_entry", "GET", foreign(anonymous=LOGIN), case="another user's entry under my book", objects={"entry_id": "stranger_entry"}),
    page("characters:lorebook_entry", "POST", private_page(REDIRECT), data=ENTRY_FORM),
    page("characters:lorebook_entry_delete", "POST", private_page(REDIRECT)),
    page("characters:personas", "GET", listing(anonymous=LOGIN), builds=("persona",)),
    page("characters:persona_new", "GET", own(OK, anonymous=LOGIN)),
    page("characters:persona_new", "POST", own(REDIRECT, anonymous=LOGIN), data=PERSONA_FORM),
    page("characters:persona", "GET", private_page(OK)),
    page("characters:persona", "POST", private_page(REDIRECT), data=PERSONA_FORM),
    page("characters:persona_delete", "POST", private_page(REDIRECT)),
    # ------------------------------------------------------------ chat pages
    page("chats:list", "GET", listing(anonymous=LOGIN), builds=("chat",)),
    page("chats:new", "GET", own(OK, anonymous=LOGIN)),
    page("chats:new", "GET", private_page(OK), case="with a private character", query=lambda w: {"character": w.character.pk}),
    page("chats:new", "GET", own(OK, anonymous=LOGIN), case="with a public character", query=lambda w: {"character": w.public_character.pk}),
    page("chats:new", "GET", nsfw(OK, anonymous=LOGIN), case="with an nsfw character", query=lambda w: {"character": w.nsfw_character.pk}),
    page("chats:new", "POST", own(REDIRECT, anonymous=LOGIN), data=lambda w: {"characters": [w.public_character.pk]}, query=lambda w: {"character": w.public_character.pk}),
    page("chats:import", "GET", own(OK, anonymous=LOGIN)),
    page("chats:import", "POST", own(REDIRECT, anonymous=LOGIN), case="with a public character", data=chat_file("public_character", field="character")),
    page("chats:import", "POST", private_page(REDIRECT), case="with a private character", data=chat_file("character", field="character")),
    page("chats:detail", "GET", private_page(OK)),
    page("chats:archive", "POST", private_page(REDIRECT), data={"archived": "1"}),
    page("chats:history", "GET", private_page(OK)),
    page("chats:message_fragment", "GET", private_page(OK)),
    page("chats:message_fragment", "GET", foreign(anonymous=LOGIN), case="another user's message under my chat", objects={"message_id": "stranger_message"}),
    page("chats:connections", "GET", listing(anonymous=LOGIN), builds=("connection",)),
    page("chats:connections", "GET", shared(BLIND, anonymous=LOGIN), case="a shared connection", builds=("shared_connection",)),
    page("chats:connection_new", "GET", own(OK, anonymous=LOGIN)),
    page("chats:connection_new", "POST", own(REDIRECT, anonymous=LOGIN), data=CONNECTION_FORM),
    page("chats:connection", "GET", private_page(OK)),
    page("chats:connection", "GET", shared(MISSING, anonymous=LOGIN), case="a shared connection", objects=SHARED),
    page("chats:connection", "POST", private_page(REDIRECT), data=CONNECTION_FORM),
    page("chats:connection_delete", "POST", private_page(REDIRECT)),
    page("chats:connection_delete", "POST", shared(MISSING, anonymous=LOGIN), case="a shared connection", objects=SHARED),
    page("chats:presets", "GET", listing(anonymous=LOGIN), builds=("preset",)),
    page("chats:presets", "POST", own(REDIRECT, anonymous=LOGIN), data=preset_file),
    page("chats:preset_new", "GET", own(OK, anonymous=LOGIN)),
    page("chats:preset_new", "POST", own(REDIRECT, anonymous=LOGIN), data={"name": "Warm"}),
    page("chats:preset", "GET", private_page(OK)),
    page("chats:preset", "POST", private_page(REDIRECT), data={"name": "Warm"}),
    page("chats:preset_delete", "POST", private_page(REDIRECT)),
    page("chats:usage", "GET", own(OK, anonymous=LOGIN)),
    # ------------------------------------------------------------ API: accounts
    # Credentials in the body are the authority here, whoever sends them.
    Row("api:token_obtain", "POST", everyone(OK), data=lambda w: {"username": w.owner.username, "password": w.password}),
    Row("api:token_refresh", "POST", everyone(OK), data=lambda w: {"refresh": w.refresh_token}),
    Row("api:token_verify", "POST", everyone(OK), data=lambda w: {"token": w.access_token}),
    Row("api:logout", "POST", everyone(NO_CONTENT), data=lambda w: {"refresh": w.refresh_token}),
    Row("api:me", "GET", listing()),
    Row("api:me", "PATCH", own(OK), data={"display_name": "Renamed"}),
    Row("api:job", "GET", private(OK)),
    Row("api:api_keys", "GET", listing(), builds=("api_key",)),
    Row("api:api_keys", "POST", own(CREATED), data={"name": "laptop"}),
    Row("api:api_key_revoke", "DELETE", private(NO_CONTENT)),
    # ------------------------------------------------------------ API: characters
    Row("api:characters", "GET", listing(), builds=("character",)),
    Row("api:characters", "POST", own(CREATED), data={"name": "Nia"}),
    Row("api:character_import", "POST", own(CREATED), data=card_file, format="multipart"),
    Row("api:character_search", "GET", search(owner=True, other=True, adult=True, anonymous=True), case="public", builds=("public_character",)),
    Row("api:character_search", "GET", NOBODY_FINDS, case="private", builds=("character",)),
    Row("api:character_search", "GET", search(owner=False, other=False, adult=True, anonymous=False), case="nsfw", builds=("nsfw_character",)),
    Row("api:character_search", "GET", NOBODY_FINDS, case="unlisted", builds=("unlisted_character",)),
    Row("api:character_search", "GET", NOBODY_FINDS, case="trashed", builds=("deleted_character",)),
    Row("api:character_search", "GET", NOBODY_FINDS, case="hidden by a moderator", builds=("hidden_character",)),
    Row("api:character", "GET", private(OK, anonymous=MISSING), case="private"),
    Row("api:character", "GET", everyone(OK), case="public", objects=PUBLIC),
    Row("api:character", "GET", everyone(OK), case="unlisted", objects=UNLISTED),
    Row("api:character", "GET", nsfw(OK), case="nsfw", objects=NSFW),
    Row("api:character", "GET", private(OK, anonymous=MISSING), case="trashed", objects=TRASHED),
    Row("api:character", "GET", private(OK, anonymous=MISSING), case="hidden by a moderator", objects=HIDDEN),
    Row("api:character", "PATCH", private(OK), case="private", data={"description": "Changed."}),
    Row("api:character", "PATCH", private(OK), case="public", objects=PUBLIC, data={"description": "Changed."}),
    Row("api:character", "DELETE", private(NO_CONTENT), case="private"),
    Row("api:character", "DELETE", private(NO_CONTENT), case="public", objects=PUBLIC),
    Row("api:character_restore", "POST", private(OK), objects=TRASHED),
    Row("api:character_fork", "POST", private(CREATED), case="private"),
    Row("api:character_fork", "POST", own(CREATED), case="public", objects=PUBLIC),
    Row("api:character_fork", "POST", own(CREATED), case="unlisted", objects=UNLISTED),
    Row("api:character_fork", "POST", nsfw(CREATED, anonymous=UNAUTHENTICATED), case="nsfw", objects=NSFW),
    Row("api:character_favourite", "POST", private(OK), case="private"),
    Row("api:character_favourite", "POST", own(OK), case="public", objects=PUBLIC),
    Row("api:character_favourite", "POST", nsfw(OK, anonymous=UNAUTHENTICATED), case="nsfw", objects=NSFW),
    Row("api:character_favourite", "DELETE", private(OK), case="private"),
    Row("api:character_favourite", "DELETE", own(OK), case="public", objects=PUBLIC),
    Row("api:character_export", "GET", private(OK, anonymous=MISSING), case="private"),
    Row("api:character_export", "GET", everyone(OK), case="public", objects=PUBLIC),
    Row("api:character_export", "GET", everyone(OK), case="unlisted", objects=UNLISTED),
    Row("api:character_export", "GET", nsfw(OK), case="nsfw", objects=NSFW),
    Row("api:character_similar", "GET", private(OK, anonymous=MISSING), case="private"),
    Row("api:character_similar", "GET", everyone(OK), case="public", objects=PUBLIC),
    Row("api:character_similar", "GET", nsfw(OK), case="nsfw", objects=NSFW),
    Row("api:character_versions", "GET", private(OK), case="private"),
    Row("api:character_versions", "GET", private(OK), case="public", objects=PUBLIC),
    Row("api:character_version_diff", "GET", private(OK), query={"from": 1, "to": 1}),
    Row("api:character_version", "GET", private(OK), case="private"),
    Row("api:character_version", "GET", private(OK), case="public", objects=PUBLIC),
    Row("api:character_version_restore", "POST", private(OK)),
    Row("api:tags", "GET", search(owner=True, other=True, adult=True, anonymous=True), case="public", builds=("public_character",)),
    Row("api:tags", "GET", NOBODY_FINDS, case="private", builds=("character",)),
    Row("api:tags", "GET", search(owner=False, other=False, adult=True, anonymous=False), case="nsfw", builds=("nsfw_character",)),
    Row("api:lorebooks", "GET", listing(), builds=("lorebook",)),
    Row("api:lorebooks", "POST", own(CREATED), data={"name": "Atlas"}),
    Row("api:lorebook_import", "POST", own(CREATED), data=world_file, format="multipart"),
    Row("api:lorebook", "GET", private(OK)),
    Row("api:lorebook", "PATCH", private(OK), data={"name": "Renamed"}),
    Row("api:lorebook", "DELETE", private(NO_CONTENT)),
    Row("api:lorebook_export", "GET", private(OK)),
    Row("api:lorebook_entries", "GET", private(OK)),
    Row("api:lorebook_entries", "POST", private(CREATED), data={"keys": ["harbour"], "content": "Ships."}),
    Row("api:lorebook_entry", "GET", private(OK)),
    Row("api:lorebook_entry", "GET", foreign(), case="another user's entry under my book", objects={"entry_id": "stranger_entry"}),
    Row("api:lorebook_entry", "PATCH", private(OK), data={"content": "Changed."}),
    Row("api:lorebook_entry", "DELETE", private(NO_CONTENT)),
    Row("api:personas", "GET", listing(), builds=("persona",)),
    Row("api:personas", "POST", own(CREATED), data={"name": "Wanderer"}),
    Row("api:persona", "GET", private(OK)),
    Row("api:persona", "PATCH", private(OK), data={"name": "Renamed"}),
    Row("api:persona", "DELETE", private(NO_CONTENT)),
    # ------------------------------------------------------------ API: chats
    Row("api:chats", "GET", listing(), builds=("chat",)),
    Row("api:chats", "POST", own(CREATED), case="with a public character", data=lambda w: {"character_ids": [w.public_character.pk]}),
    Row("api:chats", "POST", private(CREATED, refused=INVALID), case="with a private character", data=lambda w: {"character_ids": [w.character.pk]}),
    Row("api:chats", "POST", {"owner": CREATED, "other": INVALID, "adult": CREATED, "anonymous": UNAUTHENTICATED}, case="with an nsfw character", data=lambda w: {"character_ids": [w.nsfw_character.pk]}),
    Row("api:chats", "POST", foreign_in_body(other=INVALID), case="as another user's persona", data=lambda w: {"character_ids": [w.public_character.pk], "persona_id": w.stranger_persona.pk}),
    Row("api:chats", "POST", foreign_in_body(other=INVALID), case="on another user's connection", data=lambda w: {"character_ids": [w.public_character.pk], "connection_id": w.stranger_connection.pk}),
    Row("api:chat_import", "POST", own(CREATED), case="with a public character", data=chat_file("public_character"), format="multipart"),
    Row("api:chat_import", "POST", private(CREATED, refused=INVALID), case="with a private character", data=chat_file("character"), format="multipart"),
    Row("api:chat_import", "POST", {"owner": CREATED, "other": INVALID, "adult": CREATED, "anonymous": UNAUTHENTICATED}, case="with an nsfw character", data=chat_file("nsfw_character"), format="multipart"),
    Row("api:chat", "GET", private(OK)),
    Row("api:chat", "PATCH", private(OK), data={"title": "Renamed"}),
    Row("api:chat", "PATCH", foreign_in_body(), case="another user's persona", data=lambda w: {"persona_id": w.stranger_persona.pk}),
    Row("api:chat", "PATCH", foreign_in_body(), case="another user's preset", data=lambda w: {"preset_id": w.stranger_preset.pk}),
    Row("api:chat", "PATCH", foreign_in_body(), case="another user's connection", data=lambda w: {"connection_id": w.stranger_connection.pk}),
    Row("api:chat", "PATCH", foreign_in_body(), case="another user's fallback connection", data=lambda w: {"fallback_connection_ids": [w.stranger_connection.pk]}),
    Row("api:chat", "PATCH", foreign_in_body(), case="another user's lorebook", data=lambda w: {"lorebook_ids": [w.stranger_lorebook.pk]}),
    Row("api:chat", "DELETE", private(NO_CONTENT)),
    Row("api:chat_archive", "POST", private(OK)),
    Row("api:chat_archive", "DELETE", private(OK)),
    Row("api:chat_branch", "POST", private(CREATED), data=lambda w: {"message_id": w.message.pk}),
    Row("api:chat_branch", "POST", foreign_in_body(), case="at another user's message", data=lambda w: {"message_id": w.stranger_message.pk}),
    Row("api:chat_stop", "POST", private(ACCEPTED)),
    Row("api:chat_export", "GET", private(OK)),
    Row("api:chat_prompt_preview", "GET", private(OK)),
    Row("api:chat_participants", "POST", private(CREATED), data=lambda w: {"character_id": w.public_character.pk}),
    Row("api:chat_participants", "POST", foreign_in_body(), case="another user's private character", data=lambda w: {"character_id": w.stranger_character.pk}),
    Row("api:chat_participant", "PATCH", private(OK), data={"is_muted": True}),
    Row("api:chat_participant", "DELETE", private(OK), objects={"chat_id": "group_chat"}),
    Row("api:chat_messages", "GET", private(OK)),
    Row("api:chat_messages", "POST", private(CREATED), data={"content": "Hello?"}, commits=True),
    Row("api:chat_message", "PATCH", private(OK), data={"content": "Edited."}),
    Row("api:chat_message", "PATCH", foreign(), case="another user's message under my chat", objects={"message_id": "stranger_message"}, data={"content": "Edited."}),
    Row("api:chat_message", "DELETE", private(NO_CONTENT)),
    Row("api:chat_message_regenerate", "POST", private(OK), data={}, commits=True),
    Row("api:chat_message_continue", "POST", private(OK), data={}, commits=True),
    Row("api:chat_message_swipe", "POST", private(OK), data={"index": 0}),
    Row("api:connections", "GET", listing(), builds=("connection",)),
    Row("api:connections", "GET", shared(BLIND), case="a shared connection", builds=("shared_connection",)),
    Row("api:connections", "POST", own(CREATED), data={"name": "Local", "base_url": "http://127.0.0.1:9/v1", "model": "m"}),
    Row("api:connection", "PATCH", private(OK), case="mine", data={"name": "Renamed"}),
    Row("api:connection", "PATCH", shared(MISSING), case="a shared connection", objects=SHARED, data={"name": "Renamed"}),
    Row("api:connection", "DELETE", private(NO_CONTENT), case="mine"),
    Row("api:connection", "DELETE", shared(MISSING), case="a shared connection", objects=SHARED),
    Row("api:connection_test", "POST", private(OK), case="mine"),
    # A shared connection is for its tiers to use: a test says whether it answers, not where it is.
    Row("api:connection_test", "POST", shared(BLIND), case="a shared connection", objects=SHARED),
    Row("api:presets", "GET", listing(), builds=("preset",)),
    Row("api:presets", "POST", own(CREATED), data={"name": "Warm"}),
    Row("api:preset_import", "POST", own(CREATED), data=preset_file, format="multipart"),
    Row("api:preset", "PATCH", private(OK), data={"name": "Renamed"}),
    Row("api:preset", "DELETE", private(NO_CONTENT)),
    Row("api:usage", "GET", own(OK)),
    # ------------------------------------------------------------ /v1: the caller's own characters only
    Row("openai_compat:models", "GET", listing(), builds=("character",)),
    Row("openai_compat:model", "GET", private(OK), case="private"),
    Row("openai_compat:model", "GET", private(OK), case="public", objects={"model": "public_character"}),
    Row("openai_compat:chat_completions", "POST", private(OK), data=completion, commits=True),
]

SOCKET_ROWS: list[Row] = [
    Row("ws/notifications/", SOCKET, {"owner": ACCEPTED_SOCKET, "other": ACCEPTED_SOCKET, "anonymous": Outcome(4401)}),
    Row("ws/chats/<int:chat_id>/", SOCKET, private(ACCEPTED_SOCKET, refused=Outcome(4404), anonymous=Outcome(4401))),
]
# fmt: on


# ---------------------------------------------------------------- completeness


def _served() -> tuple[Endpoint, ...]:
    return http_endpoints(tuple(EXCLUDED)) + socket_endpoints(websocket_urlpatterns)


def _path(row: Row, world: World) -> str:
    """The row's URL, each parameter filled with the object the row names (or the default one)."""
    [endpoint] = [e for e in _served() if (e.route, e.method) == row.key]
    return endpoint.path({name: world.url_value(name, row.objects.get(name)) for name in endpoint.parameters})


def test_every_endpoint_has_a_row():
    missing = endpoints_without_rows(_served(), HTTP_ROWS + SOCKET_ROWS)

    assert missing == [], (
        "These endpoints have no row in the authorization matrix; add one per method saying what "
        "the owner, another user and an anonymous caller get:\n  " + "\n  ".join(missing)
    )


def test_every_row_names_a_served_endpoint():
    stale = rows_without_endpoints(_served(), HTTP_ROWS + SOCKET_ROWS)

    assert stale == [], "These rows name an endpoint (or a method) no longer served:\n  " + "\n  ".join(stale)


def test_every_row_says_what_the_owner_another_user_and_anonymous_get():
    assert rows_missing_an_actor(HTTP_ROWS + SOCKET_ROWS, ("owner", "other", "anonymous")) == []


def test_the_exclusions_name_only_what_the_url_conf_serves():
    every = http_endpoints(())
    served_prefixes = {prefix for prefix in EXCLUDED if any(e.pattern.startswith(prefix) for e in every)}

    # Uploaded files are served by the URL conf only in DEBUG (tests run without).
    assert served_prefixes == set(EXCLUDED) - {settings.MEDIA_URL.lstrip("/")}


# ---------------------------------------------------------------- the cases


def _surface(path: str) -> str:
    if path.startswith("/api/v1/"):
        return "api"
    if path.startswith("/v1/"):
        return "openai"
    return "page"


def _value(value: Any, world: World) -> Any:
    return value(world) if callable(value) else value


def _body_text(response: HttpResponse) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return content.decode("utf-8", errors="replace")


def _check(response: HttpResponse, expected: Outcome, surface: str) -> None:
    text = _body_text(response)
    assert response.status_code in expected.statuses, f"{response.status_code}: {text[:500]}"
    if response.status_code == 302:
        to_login = response["Location"].startswith(resolve_url(settings.LOGIN_URL) + "?next=")
        assert to_login is expected.login, response["Location"]
    if surface == "api" and response.status_code == 401:
        assert json.loads(text) == {
            "error": {"code": "not_authenticated", "message": "Authentication credentials were not provided."}
        }
    if surface == "api" and response.status_code == 404:
        assert json.loads(text) == {"error": {"code": "not_found", "message": "Not found."}}
    if surface == "openai" and response.status_code in (401, 404):
        error = json.loads(text)["error"]
        assert (error["type"], error["code"]) == (
            ("authentication_error", "missing_api_key")
            if response.status_code == 401
            else ("invalid_request_error", "model_not_found")
        )
    if expected.sees is not None:
        at = text.lower().find(MARKER.lower())
        shown = f"shown: ...{text[max(0, at - 200) : at + 100]}..." if at >= 0 else "not shown"
        assert (at >= 0) is expected.sees, f"the marker is {shown}"


@pytest.mark.parametrize(("row", "actor"), matrix_params(HTTP_ROWS))
def test_each_caller_gets_what_the_matrix_says(row: Row, actor: str) -> None:
    world = World()
    path = _path(row, world)
    for name in row.builds:
        getattr(world, name)
    data, query = _value(row.data, world), _value(row.query, world)
    client = APIClient()
    user = world.actor(actor)
    surface = _surface(path)
    if user is not None:
        world.sign_in(client, user, surface)
    client.defaults.update(row.headers)

    with override_settings(**row.settings):
        if row.method == "GET":
            response = client.get(path, query)
        else:
            path = f"{path}?{urlencode(query)}" if query else path
            response = getattr(client, row.method.lower())(path, data, format=row.format)

    _check(response, row.expect[actor], surface)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("row", "actor"), matrix_params(SOCKET_ROWS))
async def test_each_caller_gets_the_socket_the_matrix_says(row: Row, actor: str) -> None:
    from channels.db import database_sync_to_async

    def arrange() -> str:
        world = World()
        user = world.actor(actor)
        return _path(row, world) + (f"?token={AccessToken.for_user(user)}" if user is not None else "")

    socket = TestSocket(application, await database_sync_to_async(arrange)())

    connected, code = await socket.connect()
    await socket.disconnect()  # a refused consumer runs until then

    assert (101 if connected else code) in row.expect[actor].statuses
