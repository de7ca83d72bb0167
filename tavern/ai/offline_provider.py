"""The offline demo provider: in-character replies composed from the card, with no model.

Used when a user has no connection configured, so that the whole product works
on a fresh machine. It is honest about what it is: the UI labels it "Offline
demo" and its replies name the model "offline-demo". Each reply reacts to the
user's last message by echoing a phrase of it, and draws a line or two from the
card (example dialogue, greeting, personality, scenario), chosen from a hash of
(chat, turn, swipe): the same turn always gives the same reply, another turn or
a swipe gives another. The text streams word by word at a model's pace.

It yields the same events as `tavern.ai.chat.stream_chat`, and
`stream_with_fallback` accepts an OfflineConnection beside real connections.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tavern.ai.reply_events import StreamEvent, StreamFinished, TokenDelta, TokenUsage
from tavern.ai.tokenizer import count_message_tokens, count_tokens

OFFLINE_CONNECTION_LABEL = "Offline demo"
OFFLINE_MODEL = "offline-demo"
# About what a hosted model streams to one chat; fast enough to read along.
DEFAULT_TOKENS_PER_SECOND = 30.0

_GESTURES = (
    "considers your words for a moment",
    "looks at you thoughtfully",
    "takes a slow breath before answering",
    "glances away, then back at you",
    "leans in a little",
    "lets a moment pass in silence",
    "smiles faintly",
    "tilts their head",
)
_SETTLES = ("waits for your reply", "watches you closely", "lets the silence say the rest")
_HOOKS = ("What do you say, {{user}}?", "Go on, {{user}}.", "And you, {{user}}?", "")
_GREETING_REACTIONS = ("Hello, {{user}}.", "Hello to you too, {{user}}.", "Well met, {{user}}.")

_ACTION = re.compile(r"\*[^*]*\*")
_QUOTE_OR_STAR = re.compile(r"[\"“”*]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"*])\s+")
_GREETING = re.compile(r"^(hi|hello|hey|greetings|good (morning|afternoon|evening))\b", re.IGNORECASE)
_ASKING = re.compile(r"^(tell me|explain|describe|what|why|how|where|who|when|which)\b", re.IGNORECASE)
_ABOUT = re.compile(r"\b(?:about|regarding)\s+([^,.;:!?…]+)", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[,.;:!?…]")
_START = re.compile(r"<start>", re.IGNORECASE)
_PIECE = re.compile(r"\s*\S+\s*|\s+")
_MACROS = (
    (re.compile(r"\{\{char\}\}|<bot>|<char>", re.IGNORECASE), "char"),
    (re.compile(r"\{\{user\}\}|<user>", re.IGNORECASE), "user"),
)
_DETERMINERS = frozenset(
    {
        "the",
        "a",
        "an",
        "my",
        "your",
        "this",
        "that",
        "these",
        "those",
        "his",
        "her",
        "their",
        "our",
        "its",
        "some",
    }
)
# Spoken back by the character, "my" in the user's mouth is "your" in theirs.
_PRONOUN_PAIRS = {
    ("i", "am"): "you are",
    ("i'm",): "you're",
    ("i", "was"): "you were",
    ("you", "are"): "I am",
    ("you're",): "I'm",
    ("you", "were"): "I was",
    ("are", "you"): "am I",
    ("were", "you"): "was I",
}
_PRONOUNS = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "your": "my",
    "yours": "mine",
    "yourself": "myself",
}
_AUXILIARIES = frozenset(
    {"do", "did", "does", "can", "could", "will", "would", "should", "have", "had", "shall"}
)
_MAX_PHRASE_WORDS = 6
_MAX_ECHO_WORDS = 8
_MAX_LINE_WORDS = 30
_MAX_TRAIT_WORDS = 4
_MAX_NARRATION_WORDS = 30


@dataclass(frozen=True)
class OfflineCard:
    """The parts of a character card that the offline provider reads."""

    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    alternate_greetings: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfflineConnection:
    """The offline provider as a connection: what `stream_with_fallback` needs to use it.

    `user_message` None means the last user message of the prompt. `swipe`
    counts regenerations of the same turn, so that each gives another variant.
    """

    card: OfflineCard
    chat_id: int | str
    turn: int
    persona_name: str = "User"
    user_message: str | None = None
    swipe: int = 0
    tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND

    def __post_init__(self) -> None:
        if self.tokens_per_second < 0:
            raise ValueError("tokens_per_second must not be negative (0 streams without delay)")

    @property
    def label(self) -> str:
        return OFFLINE_CONNECTION_LABEL

    @property
    def model(self) -> str:
        return OFFLINE_MODEL


@dataclass(frozen=True)
class ExampleLine:
    speaker: Literal["char", "user"]
    text: str


def parse_example_dialogue(
    mes_example: str, *, char_name: str = "", user_name: str = ""
) -> list[list[ExampleLine]]:
    """The blocks of SillyTavern example dialogue (each after a `<START>`), as lines per speaker.

    A line starting `{{char}}:` (or `<BOT>:`, or the character's name) is the
    character's, `{{user}}:` (or `<USER>:`, or the persona's name) the user's; a
    line without a speaker continues the one before. Text before the first
    speaker in a block is not dialogue and is dropped.
    """
    char_names = ["{{char}}", "<bot>", *([char_name] if char_name.strip() else [])]
    user_names = ["{{user}}", "<user>", *([user_name] if user_name.strip() else [])]
    speaker = re.compile(
        r"^\s*(?:(?P<char>"
        + "|".join(re.escape(name) for name in char_names)
        + r")|(?P<user>"
        + "|".join(re.escape(name) for name in user_names)
        + r"))\s*:\s?(?P<text>.*)$",
        re.IGNORECASE,
    )
    blocks: list[list[ExampleLine]] = []
    for raw_block in _START.split(mes_example):
        lines: list[ExampleLine] = []
        for raw_line in raw_block.splitlines():
            match = speaker.match(raw_line)
            if match is not None:
                who: Literal["char", "user"] = "char" if match.group("char") is not None else "user"
                lines.append(ExampleLine(who, match.group("text").strip()))
            elif lines and raw_line.strip():
                previous = lines[-1]
                lines[-1] = ExampleLine(previous.speaker, f"{previous.text}\n{raw_line.strip()}".strip())
        lines = [line for line in lines if line.text]
        if lines:
            blocks.append(lines)
    return blocks


def replace_macros(text: str, *, char_name: str, user_name: str) -> str:
    """`{{char}}` / `<BOT>` and `{{user}}` / `<USER>` replaced by the names, in any letter case."""
    names = {"char": char_name, "user": user_name}
    for pattern, name in _MACROS:
        text = pattern.sub(lambda _match, value=names[name]: value, text)
    return text


def compose_offline_reply(
    card: OfflineCard,
    *,
    user_message: str,
    persona_name: str,
    chat_id: int | str,
    turn: int,
    swipe: int = 0,
) -> str:
    """The reply for one turn, the same every time for the same (chat, turn, swipe)."""
    char_name = card.name.strip() or "The character"
    user_name = persona_name.strip() or "User"
    choose = _Chooser(chat_id, turn, swipe)
    said = _plain_speech(user_message)

    if not user_message.strip():
        greetings = [greeting for greeting in (card.first_mes, *card.alternate_greetings) if greeting.strip()]
        greeting = (
            choose.one("greeting", greetings)
            if greetings
            else '*{{char}} looks up as {{user}} approaches.* "Oh, hello, {{user}}."'
        )
        return replace_macros(greeting.strip(), char_name=char_name, user_name=user_name)

    # Consecutive turns and swipes always open with another gesture.
    gesture = _GESTURES[(choose.base + turn + 3 * swipe) % len(_GESTURES)]
    if said:
        opening = f'*{{{{char}}}} {gesture}.* "{_reaction(said, choose)}"'
    else:  # only *actions*, nothing said
        opening = f"*{{{{char}}}} {gesture}, watching what you do.*"
    paragraphs = [opening]

    voice_lines = _voice_lines(card, char_name=char_name, user_name=user_name)
    flavours = _flavour_lines(card)
    if voice_lines:
        paragraphs.append(choose.one("voice", voice_lines))
    if flavours and (not voice_lines or choose.index("with-flavour", 3) > 0):
        paragraphs.append(choose.one("flavour", flavours))
    hook = choose.one("hook", _HOOKS)
    if hook:
        paragraphs[-1] = f"{paragraphs[-1]} {hook}"
    return replace_macros("\n\n".join(paragraphs), char_name=char_name, user_name=user_name)


async def stream_offline_reply(
    connection: OfflineConnection,
    messages: Sequence[Mapping[str, Any]] = (),
) -> AsyncIterator[StreamEvent]:
    """The composed reply as TokenDelta events, one per word, then StreamFinished."""
    user_message = connection.user_message
    if user_message is None:
        user_message = _last_user_message(messages)
    text = compose_offline_reply(
        connection.card,
        user_message=user_message,
        persona_name=connection.persona_name,
        chat_id=connection.chat_id,
        turn=connection.turn,
        swipe=connection.swipe,
    )
    async for piece in paced_pieces(text, tokens_per_second=connection.tokens_per_second):
        yield TokenDelta(piece)
    usage = TokenUsage(
        prompt_tokens=count_message_tokens([dict(message) for message in messages]) if messages else 0,
        completion_tokens=count_tokens(text),
    )
    yield StreamFinished(finish_reason="stop", usage=usage, model=OFFLINE_MODEL)


async def paced_pieces(text: str, *, tokens_per_second: float) -> AsyncIterator[str]:
    """`text` one word at a time (with its following whitespace), at `tokens_per_second`.

    Each word is released once its tokens would have been generated, measured
    from the start, so the pace does not drift with the event loop's delays.
    0 releases every word at once (tests).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = ""
    for piece in _PIECE.findall(text):
        sent += piece
        if tokens_per_second > 0:
            # Counted on the text so far: a word alone tokenizes apart from its space.
            delay = started + count_tokens(sent.rstrip()) / tokens_per_second - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        yield piece


class _Chooser:
    """Deterministic choices from a hash (not Python's `hash`, which changes per process)."""

    def __init__(self, chat_id: int | str, turn: int, swipe: int) -> None:
        self._key = f"{chat_id}\x1f{turn}\x1f{swipe}"
        self.base = self._number(f"chat\x1f{chat_id}")

    @staticmethod
    def _number(text: str) -> int:
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")

    def index(self, purpose: str, count: int) -> int:
        return self._number(f"{self._key}\x1f{purpose}") % count

    def one(self, purpose: str, options: Sequence[str]) -> str:
        return options[self.index(purpose, len(options))]


def _plain_speech(message: str) -> str:
    """What the user said, without their *actions* and quotation marks (the echo is quoted anew)."""
    return " ".join(_QUOTE_OR_STAR.sub("", _ACTION.sub(" ", message)).split())


def _reaction(said: str, choose: _Chooser) -> str:
    """A spoken reaction that echoes the key phrase of what the user said."""
    if _GREETING.match(said):
        return choose.one("greeting-reaction", _GREETING_REACTIONS)
    sentences = [sentence for sentence in _SENTENCE_END.split(said) if sentence.strip()]
    sentence = next((sentence for sentence in sentences if sentence.endswith("?")), sentences[0])
    asking = sentence.endswith("?") or bool(_ASKING.match(sentence))

    about = _ABOUT.search(sentence)
    if about is not None:
        phrase = _spoken_back(about.group(1).split()[:_MAX_PHRASE_WORDS])
        templates = (
            ("You ask about {phrase}…", "{Phrase}? You want to hear about {phrase}?")
            if asking
            else ("You speak of {phrase}…", "{Phrase}… you say?")
        )
        return choose.one("reaction", templates).format(phrase=phrase, Phrase=_capitalised(phrase))

    words = sentence.split()
    bare = [word.strip("\"'()[]").lower() for word in words]
    start = next((position for position, word in enumerate(bare) if word in _DETERMINERS), None)
    if start is not None:
        phrase_words: list[str] = []
        for word in words[start : start + _MAX_PHRASE_WORDS]:
            phrase_words.append(word)
            if _CLAUSE_END.search(word):
                break
        phrase = _CLAUSE_END.sub("", _spoken_back(phrase_words))
        templates = (
            ("You ask about {phrase}…", "{Phrase}? That is a fair question.")
            if asking
            else ("{Phrase}… you say?", "You mention {phrase}…", "{Phrase}. I hear you.")
        )
        template = choose.one("reaction", templates)
        return template.format(phrase=phrase, Phrase=_capitalised(phrase))

    echo = _spoken_back(words[-_MAX_ECHO_WORDS:])
    if asking:
        return f"{_capitalised(echo)} A fair question."
    return f"{_capitalised(_CLAUSE_END.sub('', echo))}… I see."


def _spoken_back(words: Sequence[str]) -> str:
    """The words as the character would repeat them: "my" becomes "your", "are you" "am I"."""
    result: list[str] = []
    position = 0
    while position < len(words):
        word = words[position]
        core = word.strip(",.;:!?…\"'").lower()
        pair_key = (
            (core, words[position + 1].strip(",.;:!?…\"'").lower()) if position + 1 < len(words) else None
        )
        if pair_key in _PRONOUN_PAIRS:
            trailing = words[position + 1][len(words[position + 1].rstrip(",.;:!?…\"'")) :]
            result.append(_PRONOUN_PAIRS[pair_key] + trailing)
            position += 2
            continue
        trailing = word[len(word.rstrip(",.;:!?…\"'")) :]
        if (core,) in _PRONOUN_PAIRS:
            result.append(_PRONOUN_PAIRS[(core,)] + trailing)
        elif core == "you":
            previous = words[position - 1].strip(",.;:!?…\"'").lower() if position else ""
            result.append(("I" if previous in _AUXILIARIES else "me") + trailing)
        elif core in _PRONOUNS:
            result.append(_PRONOUNS[core] + trailing)
        else:
            result.append(word)
        position += 1
    return " ".join(result)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _voice_lines(card: OfflineCard, *, char_name: str, user_name: str) -> list[str]:
    """Lines in the character's own voice: their example dialogue, else their greeting."""
    lines = [
        _first_sentences(line.text)
        for block in parse_example_dialogue(card.mes_example, char_name=char_name, user_name=user_name)
        for line in block
        if line.speaker == "char"
    ]
    if not lines and card.first_mes.strip():
        lines = [_first_sentences(card.first_mes)]
    return [line for line in lines if line]


def _flavour_lines(card: OfflineCard) -> list[str]:
    """Narration from the personality ("Ever curious, ...") and the scenario, else the description."""
    lines: list[str] = []
    for trait in re.split(r"[,;/\n]|\band\b", card.personality):
        trait = trait.strip(" .!").lower()
        if trait and len(trait.split()) <= _MAX_TRAIT_WORDS and "{{" not in trait:
            lines.extend(f"*Ever {trait}, {{{{char}}}} {settle}.*" for settle in _SETTLES)
    narration = card.scenario
    if not lines and not narration.strip():
        narration = card.description  # so that a card with little else still has a voice
    for sentence in _SENTENCE_END.split(narration):
        sentence = sentence.strip().strip("*")
        if sentence and len(sentence.split()) <= _MAX_NARRATION_WORDS:
            lines.append(f"*{sentence}*")
    return lines


def _first_sentences(text: str) -> str:
    """The line, or its first sentences when it is long (example dialogue can run for paragraphs)."""
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        kept.append(sentence)
        if sum(len(part.split()) for part in kept) >= _MAX_LINE_WORDS:
            break
    line = " ".join(kept).strip()
    # A cut inside a quotation or an *action* closes it.
    if line.count('"') % 2:
        line += '"'
    if line.count("*") % 2:
        line += "*"
    return line


def _last_user_message(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(
                part.get("text", "")
                for part in content
                if isinstance(part, Mapping) and part.get("type") == "text"
            )
        if isinstance(content, str):
            return content
    return ""
