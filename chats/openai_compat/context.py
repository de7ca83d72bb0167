"""Everything one completion needs from the database, read in one place (sync;
the view calls it through `sync_to_async`).

The client's messages are the chat: system messages stay where the client put
them (as system entries of the history), user and assistant messages are the
history. Around them the prompt builder adds the character's card, the lorebook
entries the messages activate (the character's book and the caller's global
books, with no sticky/cooldown state: each call stands alone), and the caller's
memories with the character. The reply comes from the character's connection:
that of the caller's most recently active chat with them, else the caller's
first own connection, else the offline demo.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings

from accounts.models import User
from characters.models import Character, Persona
from characters.selectors import persona_default
from chats.lore import lore_for_turn
from chats.prompting.builder import (
    HistoryMessage,
    PersonaInput,
    PromptBuild,
    PromptInputs,
    prompt_build,
)
from chats.turn_context import MEMORY_RECALL_LIMIT, character_card, chat_connections, connection_config
from tavern.ai.chat import ChatConnection, ChatConnectionConfig, GenerationParams
from tavern.ai.offline_provider import OfflineCard, OfflineConnection

from .errors import invalid
from .selectors import (
    character_latest_chat,
    character_lorebooks,
    connection_first_owned,
    memories_recall,
)
from .validation import CompletionRequest

DEFAULT_CONTEXT_SIZE = 8192  # as a chat turn assumes when no connection says
DEFAULT_REPLY_TOKENS = 300


@dataclass(frozen=True)
class CompletionContext:
    connections: tuple[ChatConnection, ...]
    prompt: PromptBuild
    params: GenerationParams

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.prompt.messages


def completion_context_load(
    *, user: User, character: Character, request: CompletionRequest, rng: random.Random | None = None
) -> CompletionContext:
    rng = rng or random.Random()  # noqa: S311 - lorebook probability, not security
    connections = _connections(user, character)
    first = connections[0] if connections else None
    context_size = (first.context_size if first else None) or DEFAULT_CONTEXT_SIZE
    max_reply = request.max_tokens or (first.max_reply_tokens if first else None) or DEFAULT_REPLY_TOKENS
    persona = persona_default(user=user)
    user_name = persona.name if persona else (user.display_name or user.username)
    history = _history(request, user_name=user_name, character_name=character.name)
    lore, _state = lore_for_turn(
        books=character_lorebooks(user=user, character=character),
        history=history,
        state={},
        context_size=context_size,
        turn=len(history),
        speaker=character,
        persona_description=persona.description if persona else "",
        rng=rng,
    )
    prompt = prompt_build(
        PromptInputs(
            characters=[character_card(character)],
            user_name=user_name,
            history=history,
            context_size=context_size,
            max_reply_tokens=max_reply,
            persona=_persona(persona),
            lore=lore,
            memories=memories_recall(
                user=user, character=character, query=request.last_user_text, limit=MEMORY_RECALL_LIMIT
            ),
        )
    )
    if history and prompt.report.history_included == 0:
        raise invalid(
            f"The last message does not fit in the character's context of {context_size} tokens "
            f"once {max_reply} tokens are kept for the reply.",
            param="messages",
            code="context_length_exceeded",
        )
    offline = OfflineConnection(
        card=OfflineCard(
            name=character.name,
            description=character.description,
            personality=character.personality,
            scenario=character.scenario,
            first_mes=character.first_mes,
            mes_example=character.mes_example,
            alternate_greetings=tuple(character.alternate_greetings),
        ),
        chat_id=f"api-{user.pk}-{character.pk}",
        turn=len(history),
        persona_name=user_name,
        user_message=request.last_user_text,
        tokens_per_second=settings.OFFLINE_TOKENS_PER_SECOND,
    )
    params = GenerationParams(
        temperature=request.temperature,
        top_p=request.top_p,
        presence_penalty=request.presence_penalty,
        frequency_penalty=request.frequency_penalty,
        stop=request.stop,
        max_tokens=max_reply,
        seed=request.seed,
    )
    return CompletionContext(connections=tuple(connections) or (offline,), prompt=prompt, params=params)


def _connections(user: User, character: Character) -> list[ChatConnectionConfig]:
    chat = character_latest_chat(user=user, character=character)
    connections = chat_connections(chat) if chat is not None else []
    if connections:
        return connections
    own = connection_first_owned(user=user)
    return [connection_config(own)] if own is not None else []


def _persona(persona: Persona | None) -> PersonaInput | None:
    if persona is None:
        return None
    return PersonaInput(
        name=persona.name,
        description=persona.description,
        position=persona.description_position,
        depth=persona.depth,
        role=persona.role,
    )


def _history(request: CompletionRequest, *, user_name: str, character_name: str) -> list[HistoryMessage]:
    default_names = {"user": user_name, "assistant": character_name, "system": "system"}
    return [
        HistoryMessage(
            position=position,
            role=message.role,
            name=message.name or default_names[message.role],
            content=message.content,
        )
        for position, message in enumerate(request.messages, start=1)
    ]
