"""The prompt builder: a pure function from everything a turn knows to the
messages sent to the model, plus a report of what went in, what was cut and why.

The context budget (context size minus the reply's tokens) is filled in a fixed
priority order: system prompt, persona, character card (description,
personality, scenario), lorebook entries, memories, summary, example dialogue;
then the author's note and post-history instructions are reserved, and recent
history fills what is left, newest first. Group chats join the cards of every
character, the speaker's first, as SillyTavern does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tavern.ai.tokenizer import count_tokens as default_count_tokens

MESSAGE_OVERHEAD_TOKENS = 4  # role and separators per chat message (OpenAI's accounting)
DEFAULT_SYSTEM_PROMPT = (
    "Write {{char}}'s next reply in a fictional chat between {{char}} and {{user}}. "
    "Stay in character, be creative, and never speak or act for {{user}}."
)
GROUP_SYSTEM_PROMPT = (
    "Write {{char}}'s next reply in a fictional group chat between {{user}} and {{group}}. "
    "Write only as {{char}}; never speak or act for {{user}} or the others."
)


@dataclass(frozen=True)
class CharacterCard:
    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    mes_example: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""


@dataclass(frozen=True)
class PersonaInput:
    name: str
    description: str = ""
    position: str = "in_prompt"  # in_prompt, top_an, bottom_an, at_depth, none
    depth: int = 2
    role: str = "system"


@dataclass(frozen=True)
class HistoryMessage:
    position: int
    role: str  # "user" or "assistant" or "system"
    name: str
    content: str
    tokens: int | None = None  # stored count; counted here when missing


@dataclass(frozen=True)
class LoreInsert:
    content: str
    position: str  # before_char, after_char, an_top, an_bottom, at_depth, em_top, em_bottom, outlet
    depth: int = 4
    role: str = "system"
    order: int = 100
    label: str = ""


@dataclass(frozen=True)
class AuthorNote:
    text: str
    depth: int = 4
    role: str = "system"


@dataclass(frozen=True)
class PromptInputs:
    characters: Sequence[CharacterCard]  # the speaker first
    user_name: str
    history: Sequence[HistoryMessage]
    context_size: int
    max_reply_tokens: int
    persona: PersonaInput | None = None
    lore: Sequence[LoreInsert] = ()
    memories: Sequence[str] = ()
    summary: str = ""
    author_note: AuthorNote | None = None
    scenario_override: str = ""
    continue_text: str | None = None  # "continue": the reply so far, sent as an assistant prefill


@dataclass
class SectionReport:
    name: str
    tokens: int
    included: bool
    reason: str = ""


@dataclass
class PromptReport:
    budget: int
    used: int = 0
    sections: list[SectionReport] = field(default_factory=list)
    history_included: int = 0
    history_left_out: int = 0
    history_first_position: int | None = None
    lore_included: list[str] = field(default_factory=list)
    memories_included: int = 0


@dataclass
class PromptBuild:
    messages: list[dict[str, str]]
    report: PromptReport


class _Budget:
    def __init__(self, total: int, report: PromptReport, count: Callable[[str], int]) -> None:
        self.left = total
        self.report = report
        self.count = count

    def take(self, name: str, text: str, *, reason_cut: str = "did not fit in the context") -> bool:
        if not text.strip():
            return False
        tokens = self.count(text) + MESSAGE_OVERHEAD_TOKENS
        if tokens > self.left:
            self.report.sections.append(
                SectionReport(name, tokens, False, f"{reason_cut} ({tokens} > {self.left} left)")
            )
            return False
        self.left -= tokens
        self.report.used += tokens
        self.report.sections.append(SectionReport(name, tokens, True))
        return True


def _macros(text: str, *, char: str, user: str, group: str) -> str:
    for macro, value in (
        ("{{char}}", char),
        ("{{user}}", user),
        ("{{group}}", group),
        ("<BOT>", char),
        ("<USER>", user),
    ):
        text = text.replace(macro, value)
    return text


def prompt_build(
    inputs: PromptInputs, *, count_tokens: Callable[[str], int] = default_count_tokens
) -> PromptBuild:
    speaker = inputs.characters[0]
    is_group = len(inputs.characters) > 1
    group_names = ", ".join(c.name for c in inputs.characters)

    def sub(text: str) -> str:
        return _macros(text, char=speaker.name, user=inputs.user_name, group=group_names).strip()

    report = PromptReport(budget=max(0, inputs.context_size - inputs.max_reply_tokens))
    budget = _Budget(report.budget, report, count_tokens)
    lore_by_position: dict[str, list[LoreInsert]] = {}
    for insert in sorted(inputs.lore, key=lambda item: item.order):
        lore_by_position.setdefault(insert.position, []).append(insert)

    # 1. system prompt
    default_prompt = GROUP_SYSTEM_PROMPT if is_group else DEFAULT_SYSTEM_PROMPT
    system_prompt = (
        speaker.system_prompt.replace("{{original}}", default_prompt)
        if speaker.system_prompt
        else default_prompt
    )
    system_parts: list[str] = []
    if budget.take("system prompt", sub(system_prompt)):
        system_parts.append(sub(system_prompt))

    # 2. persona
    persona = inputs.persona
    if persona and persona.description and persona.position == "in_prompt":
        text = sub(f"[{{{{user}}}}'s persona: {persona.description}]")
        if budget.take("persona", text):
            system_parts.append(text)

    # 3. character cards (the speaker first; in a group, everyone's)
    card_blocks = []
    for character in inputs.characters:
        char_sub = lambda text, c=character: _macros(  # noqa: E731
            text, char=c.name, user=inputs.user_name, group=group_names
        ).strip()
        lines = []
        if character.description:
            lines.append(char_sub(character.description))
        if character.personality:
            lines.append(char_sub(f"{character.name}'s personality: {character.personality}"))
        card_blocks.append((character.name, "\n".join(lines)))
    scenario = inputs.scenario_override or speaker.scenario
    lore_before = "\n".join(sub(item.content) for item in lore_by_position.get("before_char", []))
    lore_after = "\n".join(sub(item.content) for item in lore_by_position.get("after_char", []))
    for name, block in card_blocks:
        if block and budget.take(f"character: {name}", block):
            system_parts.append(block)
    if scenario:
        text = sub(f"Scenario: {scenario}")
        if budget.take("scenario", text):
            system_parts.append(text)

    # 4. lorebook (before/after the character; at-depth and author's-note ones below)
    for name, text in (
        ("lorebook (before character)", lore_before),
        ("lorebook (after character)", lore_after),
    ):
        if text and budget.take(name, text):
            if name.endswith("(before character)"):
                system_parts.insert(min(1, len(system_parts)), text)
            else:
                system_parts.append(text)
            position = "before_char" if "before" in name else "after_char"
            report.lore_included += [
                item.label or item.content[:40] for item in lore_by_position.get(position, [])
            ]

    # 5. memories
    memory_lines = []
    for memory in inputs.memories:
        line = f"- {sub(memory)}"
        if budget.take("memory", line, reason_cut="memory left out: no room"):
            memory_lines.append(line)
    if memory_lines:
        report.memories_included = len(memory_lines)
        remembered = "\n".join(memory_lines)
        system_parts.append(f"[Things {speaker.name} remembers from earlier:\n{remembered}]")

    # 6. summary
    if inputs.summary:
        text = sub(f"[Summary of the story so far: {inputs.summary}]")
        if budget.take("summary", text):
            system_parts.append(text)

    # 7. example dialogue
    examples = []
    for character in inputs.characters:
        if character.mes_example.strip():
            text = _macros(
                character.mes_example, char=character.name, user=inputs.user_name, group=group_names
            )
            examples.append(text.replace("<START>", "[Example chat]").strip())
    examples = [
        *(sub(item.content) for item in lore_by_position.get("em_top", [])),
        *examples,
        *(sub(item.content) for item in lore_by_position.get("em_bottom", [])),
    ]
    example_text = "\n".join(examples)
    if example_text and budget.take("example dialogue", example_text):
        system_parts.append(example_text)

    # 8. reserved: author's note (with its lorebook and persona parts) and post-history instructions
    note_parts = []
    note_parts += [sub(item.content) for item in lore_by_position.get("an_top", [])]
    if persona and persona.description and persona.position == "top_an":
        note_parts.append(sub(persona.description))
    if inputs.author_note and inputs.author_note.text.strip():
        note_parts.append(sub(inputs.author_note.text))
    if persona and persona.description and persona.position == "bottom_an":
        note_parts.append(sub(persona.description))
    note_parts += [sub(item.content) for item in lore_by_position.get("an_bottom", [])]
    note_text = "\n".join(part for part in note_parts if part)
    note_depth = inputs.author_note.depth if inputs.author_note else 4
    note_role = inputs.author_note.role if inputs.author_note else "system"
    note_included = bool(note_text) and budget.take("author's note", note_text)

    post_history = sub(speaker.post_history_instructions)
    post_included = bool(post_history) and budget.take("post-history instructions", post_history)

    depth_inserts: list[tuple[int, str, str, str]] = []  # depth, role, text, label
    for item in lore_by_position.get("at_depth", []):
        text = sub(item.content)
        if budget.take(f"lorebook at depth {item.depth}", text):
            depth_inserts.append((item.depth, item.role, text, item.label))
            report.lore_included.append(item.label or item.content[:40])
    if persona and persona.description and persona.position == "at_depth":
        text = sub(persona.description)
        if budget.take("persona at depth", text):
            depth_inserts.append((persona.depth, persona.role, text, "persona"))
    if note_included:
        depth_inserts.append((note_depth, note_role, note_text, "author's note"))

    continue_prefill = inputs.continue_text
    if continue_prefill is not None:
        budget.take("reply to continue", continue_prefill or " ")

    # 9. history, newest first, as much as fits
    chosen: list[HistoryMessage] = []
    history = list(inputs.history)
    history_tokens = 0
    for message in reversed(history):
        tokens = (
            message.tokens if message.tokens is not None else count_tokens(message.content)
        ) + MESSAGE_OVERHEAD_TOKENS
        if is_group and message.role == "assistant":
            tokens += count_tokens(message.name) + 1
        if tokens > budget.left:
            break
        budget.left -= tokens
        report.used += tokens
        history_tokens += tokens
        chosen.append(message)
    chosen.reverse()
    report.history_included = len(chosen)
    report.history_left_out = len(history) - len(chosen)
    report.history_first_position = chosen[0].position if chosen else None
    report.sections.append(
        SectionReport(
            "chat history",
            history_tokens,
            bool(chosen),
            f"{report.history_left_out} older message(s) left out" if report.history_left_out else "",
        )
    )

    # assemble
    messages: list[dict[str, str]] = []
    if system_parts:
        messages.append({"role": "system", "content": "\n\n".join(system_parts)})
    history_messages = []
    for message in chosen:
        content = message.content
        if is_group and message.role == "assistant":
            content = f"{message.name}: {content}"
        history_messages.append({"role": message.role, "content": content})
    # at-depth inserts: depth 0 = after the last message, N = before the last N messages;
    # the deepest first, so that an insert never counts as one of the last N messages
    for depth, role, text, _label in sorted(depth_inserts, key=lambda item: item[0], reverse=True):
        index = max(0, len(history_messages) - depth)
        history_messages.insert(index, {"role": role, "content": text})
    messages += history_messages
    if post_included:
        messages.append({"role": "system", "content": post_history})
    if continue_prefill is not None:
        messages.append({"role": "assistant", "content": continue_prefill})
    return PromptBuild(messages=messages, report=report)
