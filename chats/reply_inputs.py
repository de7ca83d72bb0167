"""What a reply is made from, read alike by a chat turn (`chats.turn_context`) and a
`/v1` completion (`chats.openai_compat.context`): the characters' cards, the
persona and the name the prompt calls the user, the connections and the reply's
token budget, the offline demo's card.

Each of the two assembles its own inputs around these — a chat's stored history,
lore state, summary and author's note; a request's messages — and hands them to
the one pure builder, `chats.prompting.builder.prompt_build`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from accounts.models import User
from characters.models import Character, Persona
from tavern.ai.chat import ChatConnectionConfig
from tavern.ai.offline_provider import OfflineCard
from tavern.crypto import secret_decrypt

from .models import Chat, ModelConnection
from .prompting.builder import CharacterCard, PersonaInput

DEFAULT_CONTEXT_SIZE = 8192  # tokens, when no connection says (the offline demo)
DEFAULT_REPLY_TOKENS = 300
MEMORY_RECALL_LIMIT = 4  # memories a prompt recalls at most


def character_card(character: Character) -> CharacterCard:
    return CharacterCard(
        name=character.name,
        description=character.description,
        personality=character.personality,
        scenario=character.scenario,
        mes_example=character.mes_example,
        system_prompt=character.system_prompt,
        post_history_instructions=character.post_history_instructions,
    )


def offline_card(character: Character) -> OfflineCard:
    """The parts of the card the offline demo composes its replies from."""
    return OfflineCard(
        name=character.name,
        description=character.description,
        personality=character.personality,
        scenario=character.scenario,
        first_mes=character.first_mes,
        mes_example=character.mes_example,
        alternate_greetings=tuple(character.alternate_greetings),
    )


def persona_input(persona: Persona | None) -> PersonaInput | None:
    if persona is None:
        return None
    return PersonaInput(
        name=persona.name,
        description=persona.description,
        position=persona.description_position,
        depth=persona.depth,
        role=persona.role,
    )


def prompt_user_name(*, user: User, persona: Persona | None) -> str:
    """Who `{{user}}` is: the persona, else the account's shown name."""
    return persona.name if persona is not None else (user.display_name or user.username)


def connection_config(row: ModelConnection) -> ChatConnectionConfig:
    """A stored connection as the provider client takes it, the key decrypted. A shared
    connection's failures never name its address: they reach its users (a chat's error,
    a connection test, the last test's message)."""
    return ChatConnectionConfig(
        label=row.name,
        base_url=row.base_url,
        api_key=secret_decrypt(row.api_key_encrypted) or "not-needed",
        model=row.model,
        extra_headers=row.extra_headers or {},
        context_size=row.context_size,
        max_reply_tokens=row.max_reply_tokens,
        max_retries=1,  # someone is waiting; fall back rather than back off for minutes
        address_shown=not row.is_shared,
    )


def chat_connections(
    chat: Chat, *, fallbacks: Sequence[ModelConnection] | None = None
) -> list[ChatConnectionConfig]:
    """The chat's connection, then its fallbacks (`fallbacks`, when read already), keys
    decrypted; empty = offline demo."""
    rows = [chat.connection] if chat.connection_id else []
    if fallbacks is None:
        fallbacks = list(chat.fallback_connections.all())
    rows += [c for c in fallbacks if c.pk != chat.connection_id]
    return [connection_config(row) for row in rows if row is not None]


@dataclass(frozen=True)
class ReplyBudget:
    context_size: int  # tokens the model reads: the prompt and the reply
    reply_tokens: int  # of those, kept for the reply


def reply_budget(
    connections: Sequence[ChatConnectionConfig], *, reply_tokens: int | None = None
) -> ReplyBudget:
    """The context of the connection asked first, and the reply's tokens: those asked
    for (a preset's, a request's), else that connection's, else the defaults."""
    first = connections[0] if connections else None
    return ReplyBudget(
        context_size=(first.context_size if first else None) or DEFAULT_CONTEXT_SIZE,
        reply_tokens=reply_tokens or (first.max_reply_tokens if first else None) or DEFAULT_REPLY_TOKENS,
    )
