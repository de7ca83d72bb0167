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
from characters.models import Character
from characters.selectors import persona_default
from chats.lore import lore_for_turn
from chats.prompting.builder import HistoryMessage, PromptBuild, PromptInputs, prompt_build
from chats.reply_inputs import (
    MEMORY_RECALL_LIMIT,
    character_card,
    chat_connections,
    connection_config,
    offline_card,
    persona_input,
    prompt_user_name,
    reply_budget,
)
from tavern.ai.chat import ChatConnection, ChatConnectionConfig, GenerationParams
from tavern.ai.offline_provider import OfflineConnection

from .errors import invalid
from .selectors import (
    character_latest_chat,
    character_lorebooks,
    connection_first_owned,
    memories_recall,
)
from .validation import CompletionRequest


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
    budget = reply_budget(connections, reply_tokens=request.max_tokens)
    context_size, max_reply = budget.context_size, budget.reply_tokens
    persona = persona_default(user=user)
    user_name = prompt_user_name(user=user, persona=persona)
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
            persona=persona_input(persona),
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
        card=offline_card(character),
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
