"""The prompt builder, golden: exact messages and report for given inputs. Pure: no
database; tokens are counted as words so that every number can be checked by hand."""

import pytest

from chats.prompting.builder import (
    AuthorNote,
    CharacterCard,
    HistoryMessage,
    LoreInsert,
    PersonaInput,
    PromptInputs,
    SectionReport,
    prompt_build,
)

MIRA = CharacterCard(
    name="Mira",
    description="A mapmaker of forgotten coasts.",
    personality="curious and patient",
    scenario="A rainy harbour.",
    mes_example="<START>\n{{user}}: Where are we?\n{{char}}: Somewhere the maps forgot.",
)
PLAIN_MIRA = CharacterCard(name="Mira", description="A mapmaker.")
BRAM = CharacterCard(name="Bram", description="A smith.")
SOLO_SYSTEM = (
    "Write Mira's next reply in a fictional chat between Mira and Ash. "
    "Stay in character, be creative, and never speak or act for Ash."
)  # 24 words
GROUP_SYSTEM = (
    "Write Mira's next reply in a fictional group chat between Ash and Mira, Bram. "
    "Write only as Mira; never speak or act for Ash or the others."
)  # 27 words
MIRA_CARD = "A mapmaker of forgotten coasts.\nMira's personality: curious and patient"  # 10 words
EXAMPLES = "[Example chat]\nAsh: Where are we?\nMira: Somewhere the maps forgot."  # 11 words


def words(text: str) -> int:
    return len(text.split())


def build(**values):
    defaults = {
        "characters": [PLAIN_MIRA],
        "user_name": "Ash",
        "history": [],
        "context_size": 1000,
        "max_reply_tokens": 200,
    }
    return prompt_build(PromptInputs(**{**defaults, **values}), count_tokens=words)


def line(position: int, role: str, content: str, name: str = "") -> HistoryMessage:
    return HistoryMessage(
        position=position, role=role, name=name or ("Ash" if role == "user" else "Mira"), content=content
    )


def sections(report) -> list[tuple]:
    return [(s.name, s.tokens, s.included, s.reason) for s in report.sections]


def test_a_solo_chat():
    result = build(
        characters=[MIRA],
        history=[line(1, "assistant", "*unrolls a map*"), line(2, "user", "Which cliffs?")],
    )

    assert result.messages == [
        {
            "role": "system",
            "content": f"{SOLO_SYSTEM}\n\n{MIRA_CARD}\n\nScenario: A rainy harbour.\n\n{EXAMPLES}",
        },
        {"role": "assistant", "content": "*unrolls a map*"},
        {"role": "user", "content": "Which cliffs?"},
    ]
    assert sections(result.report) == [
        ("system prompt", 28, True, ""),
        ("character: Mira", 14, True, ""),
        ("scenario", 8, True, ""),
        ("example dialogue", 15, True, ""),
        ("chat history", 13, True, ""),
    ]
    report = result.report
    assert (report.budget, report.used, report.history_included, report.history_left_out) == (800, 78, 2, 0)
    assert report.history_first_position == 1


def test_a_group_chat_has_every_card_and_names_the_speakers():
    result = build(
        characters=[MIRA, BRAM],
        history=[
            line(1, "assistant", "*unrolls a map*"),
            line(2, "user", "Bram, is it sharp?"),
            line(3, "assistant", "Sharp enough.", name="Bram"),
        ],
    )

    assert result.messages == [
        {
            "role": "system",
            "content": f"{GROUP_SYSTEM}\n\n{MIRA_CARD}\n\nA smith.\n\nScenario: A rainy harbour.\n\n{EXAMPLES}",
        },
        {"role": "assistant", "content": "Mira: *unrolls a map*"},
        {"role": "user", "content": "Bram, is it sharp?"},
        {"role": "assistant", "content": "Bram: Sharp enough."},
    ]
    assert sections(result.report) == [
        ("system prompt", 31, True, ""),
        ("character: Mira", 14, True, ""),
        ("character: Bram", 6, True, ""),
        ("scenario", 8, True, ""),
        ("example dialogue", 15, True, ""),
        ("chat history", 25, True, ""),  # names count: 1 word and a separator each
    ]
    assert result.report.used == sum(s.tokens for s in result.report.sections)


def test_the_authors_note_and_lore_go_at_their_depths_with_their_roles():
    history = [
        line(1, "user", "One."),
        line(2, "assistant", "Two."),
        line(3, "user", "Three."),
        line(4, "assistant", "Four."),
        line(5, "user", "Five."),
    ]

    result = build(
        history=history,
        author_note=AuthorNote(text="Keep {{char}} terse.", depth=2),
        lore=[
            LoreInsert(
                content="The bridge is out.", position="at_depth", depth=0, role="user", label="bridge"
            ),
            LoreInsert(
                content="{{char}} once crossed it.",
                position="at_depth",
                depth=4,
                role="assistant",
                label="crossing",
            ),
        ],
    )

    assert result.messages[1:] == [
        {"role": "user", "content": "One."},
        {"role": "assistant", "content": "Mira once crossed it."},
        {"role": "assistant", "content": "Two."},
        {"role": "user", "content": "Three."},
        {"role": "system", "content": "Keep Mira terse."},
        {"role": "assistant", "content": "Four."},
        {"role": "user", "content": "Five."},
        {"role": "user", "content": "The bridge is out."},
    ]
    assert result.report.lore_included == ["bridge", "crossing"]
    assert sections(result.report)[2:] == [
        ("author's note", 7, True, ""),
        ("lorebook at depth 0", 8, True, ""),
        ("lorebook at depth 4", 8, True, ""),
        ("chat history", 25, True, ""),
    ]


def test_lore_before_and_after_the_character():
    result = build(
        lore=[
            LoreInsert(content="The harbour floods at spring tide.", position="after_char", label="floods"),
            LoreInsert(content="Maps are contraband here.", position="before_char", label="contraband"),
        ],
        history=[line(1, "user", "Hi.")],
    )

    assert result.messages[0]["content"] == (
        f"{SOLO_SYSTEM}\n\nMaps are contraband here.\n\nA mapmaker.\n\nThe harbour floods at spring tide."
    )
    assert result.report.lore_included == ["contraband", "floods"]


PERSONA = "A courier with a bad knee."


@pytest.mark.parametrize(
    ("position", "system", "inserts"),
    [
        ("in_prompt", f"{SOLO_SYSTEM}\n\n[Ash's persona: {PERSONA}]\n\nA mapmaker.", [("system", "Note.")]),
        ("top_an", f"{SOLO_SYSTEM}\n\nA mapmaker.", [("system", f"{PERSONA}\nNote.")]),
        ("bottom_an", f"{SOLO_SYSTEM}\n\nA mapmaker.", [("system", f"Note.\n{PERSONA}")]),
        ("at_depth", f"{SOLO_SYSTEM}\n\nA mapmaker.", [("user", PERSONA), ("system", "Note.")]),
        ("none", f"{SOLO_SYSTEM}\n\nA mapmaker.", [("system", "Note.")]),
    ],
    ids=[
        "in the prompt",
        "above the author's note",
        "below the author's note",
        "at its depth with its role",
        "nowhere",
    ],
)
def test_persona_positions(position, system, inserts):
    result = build(
        persona=PersonaInput(name="Ash", description=PERSONA, position=position, depth=1, role="user"),
        author_note=AuthorNote(text="Note.", depth=1),
        history=[line(1, "assistant", "Hello."), line(2, "user", "Hi.")],
    )

    assert result.messages == [
        {"role": "system", "content": system},
        {"role": "assistant", "content": "Hello."},
        *({"role": role, "content": content} for role, content in inserts),
        {"role": "user", "content": "Hi."},
    ]


def test_continue_sends_the_reply_so_far_as_an_assistant_prefill():
    result = build(
        history=[line(1, "user", "Which way?")],
        continue_text="*Mira points north and*",
    )

    assert result.messages[-2:] == [
        {"role": "user", "content": "Which way?"},
        {"role": "assistant", "content": "*Mira points north and*"},
    ]
    assert ("reply to continue", 8, True, "") in sections(result.report)


def test_post_history_instructions_come_after_the_history():
    result = build(
        characters=[
            CharacterCard(
                name="Mira", description="A mapmaker.", post_history_instructions="Stay as {{char}}."
            )
        ],
        history=[line(1, "user", "Hi.")],
    )

    assert result.messages[-2:] == [
        {"role": "user", "content": "Hi."},
        {"role": "system", "content": "Stay as Mira."},
    ]


def test_over_budget_the_newest_history_is_kept_and_the_cuts_are_reported():
    six = "one two three four five six"  # 10 tokens with the overhead
    result = build(
        context_size=100,
        max_reply_tokens=40,  # a budget of 60: 28 system prompt + 6 card leave 26
        characters=[
            CharacterCard(name="Mira", description="A mapmaker.", mes_example="<START>\n" + "word " * 28)
        ],
        memories=["memory " * 30],
        history=[line(position, "user" if position % 2 else "assistant", six) for position in range(1, 7)],
    )

    assert sections(result.report) == [
        ("system prompt", 28, True, ""),
        ("character: Mira", 6, True, ""),
        ("memory", 35, False, "memory left out: no room (35 > 26 left)"),
        ("example dialogue", 34, False, "did not fit in the context (34 > 26 left)"),
        ("chat history", 20, True, "4 older message(s) left out"),
    ]
    report = result.report
    assert (report.used, report.history_included, report.history_left_out, report.history_first_position) == (
        54,
        2,
        4,
        5,
    )
    assert report.memories_included == 0
    assert [m["content"] for m in result.messages[1:]] == [six, six]


def test_nothing_of_the_history_fits():
    # a budget of 40: 28 system prompt + 6 card leave 6, and the message takes 10
    result = build(
        context_size=70, max_reply_tokens=30, history=[line(1, "user", "one two three four five six")]
    )

    assert result.messages == [{"role": "system", "content": f"{SOLO_SYSTEM}\n\nA mapmaker."}]
    assert result.report.sections[-1] == SectionReport(
        "chat history", 0, False, "1 older message(s) left out"
    )
    assert (result.report.history_included, result.report.history_first_position) == (0, None)
