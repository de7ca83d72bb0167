"""Everything one turn needs from the database, read in one place (sync; the
orchestrator calls it through `database_sync_to_async`)."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import Q

from characters.models import Character
from characters.selectors import lorebooks_in_play_query
from tavern.ai.chat import ChatConnectionConfig, GenerationParams
from tavern.compiled_query import CompiledQuery

from .models import Author, Chat, ChatParticipant, MemoryChunk, Message, Preset
from .prompting.builder import (
    AuthorNote,
    HistoryMessage,
    PromptBuild,
    PromptInputs,
    prompt_build,
)
from .reply_inputs import (
    DEFAULT_CONTEXT_SIZE,
    MEMORY_RECALL_LIMIT,
    character_card,
    chat_connections,
    offline_card,
    persona_input,
    prompt_user_name,
    reply_budget,
)
from .selectors import memories_nearest
from .speakers import Candidate, next_speaker

HISTORY_LIMIT = 2000  # messages read for a prompt; the token budget usually stops far earlier


class TurnError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class TurnContext:
    chat_id: int
    user_id: int
    tier: str
    mode: str  # send, regenerate, continue
    speaker: Character
    target_message_id: int | None
    prompt: PromptBuild
    connections: list[ChatConnectionConfig]
    params: GenerationParams
    offline_card: dict[str, Any]
    user_name: str
    last_user_text: str
    turn: int = 0
    swipe: int = 0
    lorebook_state: dict[str, Any] = field(default_factory=dict)
    lorebook_state_changed: bool = False  # from what the chat holds: the reply stores it


def _history(messages: list[HistoryRow]) -> list[HistoryMessage]:
    role = {
        Author.USER: "user",
        Author.CHARACTER: "assistant",
        Author.SYSTEM: "system",
        Author.NARRATOR: "system",
    }
    return [
        HistoryMessage(
            position=m.position, role=role[m.author], name=m.name, content=m.content, tokens=m.token_count
        )
        for m in messages
        if not m.is_hidden
    ]


def _params(chat: Chat) -> GenerationParams:
    preset = chat.preset
    if preset is None:
        return GenerationParams()
    return GenerationParams(
        **{name: getattr(preset, name) for name in Preset.NUMBERS},
        stop=tuple(preset.stop or ()) or None,
    )


def _memory_scope(chat: Chat, *, before_position: int, character_ids: list[int]) -> Any:
    """The chat's passages the window left out and, with cross-chat memory, the owner's
    with these characters from anywhere."""
    scope = Q(chat=chat)
    if chat.cross_chat_memory:
        scope |= Q(owner_id=chat.owner_id, character_id__in=character_ids)
    return MemoryChunk.objects.filter(scope).filter(Q(position_end__lt=before_position) | ~Q(chat=chat))


class RecallNeeded(Exception):
    """The turn would recall memories (an embedding of the user's words, maybe a call to
    a provider), which a read made ahead of time does not do: see `turn_context_load`."""


# Read with each participant, never used by a turn: the search vector and the embedding
# alone (a 384-float vector made an array per row) cost more than the card.
_CHARACTER_FIELDS_UNUSED = (
    "embedding",
    "search_vector",
    "tag_text",
    "tag_keys",
    "creator_notes_multilingual",
    "source",
    "assets",
    "card_extra",
)
HISTORY_PAGE_MAX = 300


class HistoryRow(NamedTuple):
    """A message as a turn reads it: a tuple of the columns it needs (a model instance
    per row cost more than the rest of reading the turn)."""

    id: int
    position: int
    author: str
    character_id: int | None
    name: str
    content: str
    token_count: int
    is_hidden: bool
    swipe_index: int
    swipe_count: int

    @property
    def pk(self) -> int:
        return self.id


# The turn's reads of its chat, compiled once (tavern.compiled_query): building their SQL
# cost more than running them.
_CHAT = CompiledQuery(
    lambda p: Chat.objects.select_related("owner", "persona", "connection", "preset").filter(
        pk=p.chat_id, owner_id=p.user_id
    )[:1]
)
_PARTICIPANTS = CompiledQuery(
    lambda p: (
        ChatParticipant.objects.select_related("character")
        .defer(*(f"character__{name}" for name in _CHARACTER_FIELDS_UNUSED))
        .filter(chat_id=p.chat_id)
        .order_by("position", "pk")
    )
)
_FALLBACKS = CompiledQuery(
    lambda p: (
        Chat.fallback_connections.through.objects.select_related("modelconnection")
        .filter(chat_id=p.chat_id)
        .order_by("modelconnection__name", "modelconnection_id")
    )
)

# The books in play: the present participants' own, the chat's, the owner's global ones.
_LOREBOOKS = lorebooks_in_play_query(
    lambda p: ChatParticipant.objects.filter(chat_id=p.chat_id, left_at__isnull=True).values(
        "character__book_id"
    ),
    lambda p: Chat.lorebooks.through.objects.filter(chat_id=p.chat_id).values("lorebook_id"),
)


def _context_size(chat: Chat) -> int:
    return chat.connection.context_size if chat.connection_id else DEFAULT_CONTEXT_SIZE


def _history_page(size: int, *, older: bool) -> CompiledQuery[Message]:
    """The query of one page of `size` messages: the newest, or those before a position."""
    key = (size, older)
    query = _HISTORY_PAGES.get(key)
    if query is None:

        def build(p: Any) -> Any:
            queryset = Message.objects.filter(chat_id=p.chat_id)
            if older:
                queryset = queryset.filter(position__lt=p.before)
            return queryset.order_by("-position").values_list(*HistoryRow._fields)[:size]

        query = _HISTORY_PAGES.setdefault(key, CompiledQuery(build))
    return query


_HISTORY_PAGES: dict[tuple[int, bool], CompiledQuery[Message]] = {}


def _recent_messages(chat: Chat, *, token_budget: int) -> list[HistoryRow]:
    """The newest messages, oldest first, read in pages until their tokens exceed the
    context (a long chat reads a page or two, not thousands of rows). The first page is
    sized for the budget at ~64 tokens a message (a power of two from 32); each next one
    is four times larger, up to HISTORY_PAGE_MAX."""
    found: list[HistoryRow] = []
    tokens = 0
    size = min(max(32, 1 << max(token_budget // 64 - 1, 1).bit_length()), HISTORY_PAGE_MAX)
    while len(found) < HISTORY_LIMIT:
        if found:
            rows = _history_page(size, older=True).all(chat_id=chat.pk, before=found[-1].position)
        else:
            rows = _history_page(size, older=False).all(chat_id=chat.pk)
        page = [HistoryRow._make(row) for row in rows]
        found += page
        tokens += sum(m.token_count for m in page)
        if len(page) < size or tokens > token_budget:
            break
        size = min(size * 4, HISTORY_PAGE_MAX)
    found.reverse()
    return found


def turn_context_load(
    *,
    chat_id: int,
    user_id: int,
    mode: str,
    target_message_id: int | None = None,
    requested_character_id: int | None = None,
    rng: random.Random | None = None,
    recall: bool = True,
) -> TurnContext | None:
    """Read and decide everything for one turn. None: nobody is to speak (manual group).

    `recall=False` (a read made ahead, before the user's message is acknowledged): raise
    RecallNeeded rather than embed the user's words to recall memories."""
    rng = rng or random.Random()  # noqa: S311 - speaker choice and lore probability, not security
    chat = _CHAT.first(chat_id=chat_id, user_id=user_id)
    if chat is None:
        raise Chat.DoesNotExist(f"chat {chat_id} of user {user_id}")
    participants = [p for p in _PARTICIPANTS.all(chat_id=chat_id) if p.left_at is None]
    characters = {p.character_id: p.character for p in participants}
    messages = _recent_messages(chat, token_budget=_context_size(chat))

    target = None
    if mode in ("regenerate", "continue"):
        candidates = [m for m in messages if m.author in (Author.CHARACTER, Author.NARRATOR)]
        if target_message_id is not None:
            target = next((m for m in messages if m.pk == target_message_id), None)
        elif candidates and candidates[-1].position == messages[-1].position:
            target = candidates[-1]
        if target is None or target.author not in (Author.CHARACTER, Author.NARRATOR):
            raise TurnError("nothing_to_regenerate", "There is no reply to regenerate or continue.")
        messages = [m for m in messages if m.position < target.position]

    # The turn's number: the position of the last message before the reply. It only grows
    # (a count of the messages read would stop at the window's size in a long chat, and
    # sticky or cooldown lore entries would then never expire).
    turn = messages[-1].position if messages else 0
    last_user = next((m for m in reversed(messages) if m.author == Author.USER), None)
    last_user_text = last_user.content if last_user else ""
    if target is not None and target.character_id in characters:
        speaker = characters[target.character_id]
    else:
        last_speaker = next(
            (m.character_id for m in reversed(messages) if m.author == Author.CHARACTER), None
        )
        choice = next_speaker(
            strategy=chat.speaker_strategy,
            candidates=[
                Candidate(p.character_id, p.character.name, p.talkativeness, p.is_muted) for p in participants
            ],
            last_user_text=last_user_text,
            last_speaker_id=last_speaker,
            requested_id=requested_character_id,
            rng=rng,
            user_spoke_last=bool(messages) and messages[-1].author == Author.USER,
        )
        if choice is None:
            return None
        speaker = characters[choice.character_id]

    connections = chat_connections(
        chat, fallbacks=[row.modelconnection for row in _FALLBACKS.all(chat_id=chat_id)]
    )
    budget = reply_budget(connections, reply_tokens=chat.preset.max_tokens if chat.preset else None)
    context_size, max_reply = budget.context_size, budget.reply_tokens
    history = _history(messages)
    user_name = prompt_user_name(user=chat.owner, persona=chat.persona)
    persona = persona_input(chat.persona)
    ordered = [speaker, *[c for cid, c in characters.items() if cid != speaker.pk]]
    from .lore import lore_for_turn

    lore, lorebook_state = lore_for_turn(
        books=_LOREBOOKS.all(chat_id=chat.pk, owner_id=chat.owner_id),
        history=history,
        state=chat.lorebook_state,
        context_size=context_size,
        turn=turn,
        speaker=speaker,
        persona_description=persona.description if persona else "",
        rng=rng,
    )
    user_turns = sum(1 for m in messages if m.author == Author.USER)
    note = None
    if (
        chat.author_note.strip()
        and chat.author_note_frequency
        and user_turns % chat.author_note_frequency == 0
    ):
        note = AuthorNote(text=chat.author_note, depth=chat.author_note_depth)
    inputs = PromptInputs(
        characters=[character_card(c) for c in ordered],
        user_name=user_name,
        history=history,
        context_size=context_size,
        max_reply_tokens=max_reply,
        persona=persona,
        lore=lore,
        summary=chat.summary,
        author_note=note,
        scenario_override=chat.scenario_override,
        continue_text=target.content if (mode == "continue" and target) else None,
    )
    # Memories are what the window leaves out, which only a build can tell: build, recall
    # what ends before the first message in, and build again with it.
    prompt = prompt_build(inputs)
    if prompt.report.history_left_out or chat.cross_chat_memory:
        first_in = prompt.report.history_first_position
        chunks = _memory_scope(
            chat,
            before_position=first_in if first_in is not None else chat.last_position + 1,
            character_ids=list(characters),
        )
        if recall:
            memories = memories_nearest(chunks=chunks, query=last_user_text, limit=MEMORY_RECALL_LIMIT)
        elif last_user_text.strip() and chunks.exists():
            raise RecallNeeded
        else:
            memories = []  # nothing to recall: no chunk in scope, or no words to recall by
        if memories:
            prompt = prompt_build(dataclasses.replace(inputs, memories=memories))
    params = _params(chat)
    if params.max_tokens is None:
        params = dataclasses.replace(params, max_tokens=max_reply)
    return TurnContext(
        chat_id=chat.pk,
        user_id=user_id,
        tier=chat.owner.subscription_tier,
        mode=mode,
        speaker=speaker,
        target_message_id=target.pk if target else None,
        prompt=prompt,
        connections=connections,
        params=params,
        # A dict, as the generation builds the demo's connection from it.
        offline_card=dataclasses.asdict(offline_card(speaker)),
        user_name=user_name,
        last_user_text=last_user_text,
        turn=turn,
        swipe=target.swipe_count if target is not None else 0,
        lorebook_state=lorebook_state,
        lorebook_state_changed=lorebook_state != chat.lorebook_state,
    )


def prompt_preview(*, chat: Chat) -> TurnContext | None:
    """What the next reply would be sent, without sending it (the prompt inspector)."""
    return turn_context_load(chat_id=chat.pk, user_id=chat.owner_id, mode="send", rng=random.Random(0))  # noqa: S311
