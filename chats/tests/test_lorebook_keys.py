"""Lorebook keys: substring, case, whole words, regex keys, secondary logic, what is scanned."""

import random
import re

import pytest
import regex

from characters.cards.lorebook.book import Lorebook, LorebookEntry, SelectiveLogic
from chats.prompting.lorebook import (
    ActivationResult,
    ActivationSettings,
    BookInput,
    CompiledBook,
    Reason,
    ScanExtras,
    ScanMessage,
    lorebook_activate,
    lorebook_compile,
)
from chats.prompting.lorebook.keys import RegexKey, key_parse
from chats.prompting.lorebook.scan_text import Haystack, ScanText


def word_count(text: str) -> int:
    return len(text.split())


def activate(
    *entries: LorebookEntry,
    said: tuple[str, ...] = (),
    settings: ActivationSettings | None = None,
    extras: ScanExtras | None = None,
    book: Lorebook | None = None,
) -> ActivationResult:
    lorebook = book or Lorebook()
    lorebook.entries = list(entries)
    return lorebook_activate(
        books=[BookInput(id="b", book=lorebook)],
        history=[ScanMessage(name="User", text=text, is_user=True) for text in said],
        settings=settings or ActivationSettings(),
        state={},
        turn=len(said),
        rng=random.Random(0),
        count_tokens=word_count,
        extra_scan_text=extras,
    )


def matched(key: str, text: str, **entry_fields: object) -> bool:
    result = activate(LorebookEntry(uid=1, keys=[key], content="lore", **entry_fields), said=(text,))
    return [entry.uid for entry in result.entries] == [1]


@pytest.mark.parametrize(
    ("key", "text", "entry_fields", "expected"),
    [
        ("dragon", "a dragon sleeps", {}, True),
        ("dragon", "two dragons sleep", {}, True),
        ("dragon", "a drake sleeps", {}, False),
        ("Dragon", "the DRAGON sleeps", {}, True),
        ("Dragon", "the dragon sleeps", {"case_sensitive": True}, False),
        ("Dragon", "the Dragon sleeps", {"case_sensitive": True}, True),
        ("dragon", "two dragons sleep", {"match_whole_words": True}, False),
        ("dragon", "a dragon.", {"match_whole_words": True}, True),
        ("dragon", "(dragon)", {"match_whole_words": True}, True),
        ("dragon", "dragon", {"match_whole_words": True}, True),
        ("red drag", "red dragons", {"match_whole_words": True}, True),
        ("o'neil", "o'neil's coat", {"match_whole_words": True}, True),
        ("o'neil", "o'neill's coat", {"match_whole_words": True}, False),
        ("дракон", "Большой ДРАКОН спит", {}, True),
        ("дракон", "драконы спят", {"match_whole_words": True}, False),
        ("<3", "love you <3", {}, True),
        ("  dragon  ", "a dragon", {}, True),
        ("İstanbul", "we met in İSTANBUL", {}, True),
        ("İstanbul", "we met in İstanbul.", {"match_whole_words": True}, True),
        ("İstanbul", "we met in Istanbul", {}, False),
    ],
    ids=[
        "substring-exact-word",
        "substring-inside-longer-word",
        "substring-absent",
        "case-insensitive-by-default",
        "case-sensitive-entry-misses-other-case",
        "case-sensitive-entry-matches-same-case",
        "whole-word-rejects-longer-word",
        "whole-word-before-punctuation",
        "whole-word-in-brackets",
        "whole-word-whole-text",
        "whole-word-key-with-space-is-substring",
        "whole-word-key-with-apostrophe",
        "whole-word-key-with-apostrophe-longer-word",
        "cyrillic-substring-any-case",
        "cyrillic-whole-word-rejects-longer-word",
        "symbols-only-key",
        "key-is-trimmed",
        # "İ" lower-cases to "i" and a combining dot, which is no word character: the key is
        # looked for as text (SillyTavern: toLowerCase().includes), not among the text's words.
        "dotted-capital-i-any-case",
        "dotted-capital-i-whole-word",
        "dotted-capital-i-is-not-plain-i",
    ],
)
def test_plain_key_matching(key: str, text: str, entry_fields: dict[str, object], expected: bool) -> None:
    assert matched(key, text, **entry_fields) is expected


def test_global_case_sensitive_setting_applies_when_the_entry_has_none() -> None:
    entry = LorebookEntry(uid=1, keys=["Dragon"], content="lore")

    result = activate(entry, said=("the dragon",), settings=ActivationSettings(case_sensitive=True))

    assert result.entries == ()


def test_global_whole_words_setting_applies_when_the_entry_has_none() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="lore")

    result = activate(entry, said=("dragons",), settings=ActivationSettings(match_whole_words=True))

    assert result.entries == ()


def test_entry_setting_overrides_the_global_one() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="lore", match_whole_words=False)

    result = activate(entry, said=("dragons",), settings=ActivationSettings(match_whole_words=True))

    assert [e.uid for e in result.entries] == [1]


@pytest.mark.parametrize(
    ("key", "text", "entry_fields", "expected"),
    [
        ("/drag(on|oness)/i", "the DRAGONESS", {}, True),
        ("/Dragon/", "the dragon", {}, False),
        ("/Dragon/", "the Dragon", {"case_sensitive": False}, True),
        ("/drag/", "dragons", {"match_whole_words": True}, True),
        ("/^the end$/m", "it was\nthe end\nor not", {}, True),
        ("/^the end$/", "it was\nthe end\nor not", {}, False),
        ("/^User: the end$/m", "the end", {}, True),
        ("/a.b/s", "a\nb", {}, True),
        ("/a.b/", "a\nb", {}, False),
        ("/\\u{1F409}/u", "a \U0001f409 here", {}, True),
        ("/(?<x>ha)\\k<x>/", "haha", {}, True),
        ("/User/y", "hello", {}, True),
        ("/hello/y", "hello", {}, False),
        ("/a\\/b/", "a/b", {}, True),
        ("/sword/i", "a \u017fword", {}, True),
        ("/[^]x/", "\nx", {}, True),
        ("/\\bkin\\b/i", "the KIN of", {}, True),
    ],
    ids=[
        "regex-with-i-flag",
        "regex-without-i-flag-is-case-sensitive",
        "regex-ignores-case-settings",
        "regex-ignores-whole-words",
        "regex-m-flag-anchors-lines",
        "regex-without-m-flag-anchors-the-whole-buffer",
        "regex-sees-the-name-prefix",
        "regex-s-flag-dot-matches-newline",
        "regex-dot-stops-at-newline",
        "regex-u-flag-code-point-escape",
        "regex-named-group-and-backreference",
        "regex-y-flag-matches-at-start",
        "regex-y-flag-only-at-start",
        "regex-escaped-slash",
        "regex-i-flag-folds-long-s",
        "regex-javascript-any-character-class",
        "regex-word-boundaries",
    ],
)
def test_regex_key_matching(key: str, text: str, entry_fields: dict[str, object], expected: bool) -> None:
    assert matched(key, text, **entry_fields) is expected


@pytest.mark.parametrize(
    "key",
    ["/[unclosed/", "/(?<=a+)b/", "/a/ii", "/\\p{L}/u", "/(/"],
    ids=["unclosed-class", "variable-lookbehind", "repeated-flag", "unicode-property", "unclosed-group"],
)
def test_invalid_regex_key_never_matches_and_is_reported(key: str) -> None:
    entry = LorebookEntry(uid=1, keys=[key], content="lore")

    result = activate(entry, said=(f"{key} [unclosed ab b a+b",))

    assert result.entries == ()
    line = result.report_for("b", 1)
    assert line.reason is Reason.NOT_MATCHED
    assert line.detail.startswith(f"no key matched; {key} is not a valid regex (")


def test_key_with_unescaped_slash_is_plain_text() -> None:
    assert matched("/a/b/", "see /a/b/ here") is True


def test_blank_keys_are_ignored() -> None:
    result = activate(
        LorebookEntry(uid=1, keys=["", "  "], content="lore"),
        LorebookEntry(uid=2, keys=["", "dragon"], content="lore"),
        said=("a dragon",),
    )

    assert [e.uid for e in result.entries] == [2]
    assert result.report_for("b", 1).reason is Reason.NO_KEYS


@pytest.mark.parametrize(
    ("logic", "secondary", "expected"),
    [
        (SelectiveLogic.AND_ANY, ["castle", "moon"], True),
        (SelectiveLogic.AND_ANY, ["moon", "sun"], False),
        (SelectiveLogic.AND_ALL, ["castle", "night"], True),
        (SelectiveLogic.AND_ALL, ["castle", "moon"], False),
        (SelectiveLogic.NOT_ANY, ["moon", "sun"], True),
        (SelectiveLogic.NOT_ANY, ["moon", "castle"], False),
        (SelectiveLogic.NOT_ALL, ["castle", "moon"], True),
        (SelectiveLogic.NOT_ALL, ["castle", "night"], False),
    ],
    ids=[
        "and-any-one-present-activates",
        "and-any-none-present-blocks",
        "and-all-all-present-activates",
        "and-all-one-missing-blocks",
        "not-any-none-present-activates",
        "not-any-one-present-blocks",
        "not-all-one-missing-activates",
        "not-all-all-present-blocks",
    ],
)
def test_selective_logic(logic: SelectiveLogic, secondary: list[str], expected: bool) -> None:
    entry = LorebookEntry(
        uid=1, keys=["dragon"], secondary_keys=secondary, selective_logic=logic, content="x"
    )

    result = activate(entry, said=("the dragon flies over the castle at night",))

    assert ([e.uid for e in result.entries] == [1]) is expected


def test_failed_secondary_logic_is_reported() -> None:
    entry = LorebookEntry(
        uid=1,
        keys=["dragon"],
        secondary_keys=["moon", "sun"],
        selective_logic=SelectiveLogic.AND_ALL,
        content="x",
    )

    result = activate(entry, said=("the dragon and the sun",))

    line = result.report_for("b", 1)
    assert line.reason is Reason.SECONDARY_FAILED
    assert line.detail == 'key "dragon" matched, but secondary "moon" did not match (AND ALL)'


def test_secondary_keys_are_ignored_unless_selective() -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], secondary_keys=["moon"], selective=False, content="x")

    result = activate(entry, said=("the dragon",))

    assert [e.uid for e in result.entries] == [1]


def test_any_primary_key_is_enough_and_the_first_matching_one_is_reported() -> None:
    entry = LorebookEntry(uid=1, keys=["moon", "castle", "dragon"], content="x")

    result = activate(entry, said=("the dragon at the castle",))

    assert result.report_for("b", 1).detail == 'key "castle" matched'


@pytest.mark.parametrize(
    ("include_names", "expected"),
    [(True, True), (False, False)],
    ids=["names-included-match-the-speaker", "names-left-out-do-not"],
)
def test_speaker_names_are_scanned_when_included(include_names: bool, expected: bool) -> None:
    entry = LorebookEntry(uid=1, keys=["User"], content="x", case_sensitive=True)

    result = activate(entry, said=("hello",), settings=ActivationSettings(include_names=include_names))

    assert ([e.uid for e in result.entries] == [1]) is expected


@pytest.mark.parametrize(
    ("global_depth", "book_depth", "entry_depth", "expected"),
    [
        (2, None, None, False),
        (3, None, None, True),
        (2, 3, None, True),
        (2, None, 3, True),
        (5, 3, 2, False),
    ],
    ids=[
        "global-depth-2-misses-third-message",
        "global-depth-3-finds-it",
        "book-depth-overrides-global",
        "entry-depth-overrides-global",
        "entry-depth-overrides-book-and-global",
    ],
)
def test_scan_depth_counts_messages_from_the_newest(
    global_depth: int, book_depth: int | None, entry_depth: int | None, expected: bool
) -> None:
    entry = LorebookEntry(uid=1, keys=["dragon"], content="x", scan_depth=entry_depth)

    result = activate(
        entry,
        said=("a dragon", "nothing", "still nothing"),
        settings=ActivationSettings(scan_depth=global_depth),
        book=Lorebook(scan_depth=book_depth),
    )

    assert ([e.uid for e in result.entries] == [1]) is expected


def test_scan_depth_zero_scans_nothing_but_constants_still_activate() -> None:
    result = activate(
        LorebookEntry(uid=1, keys=["dragon"], content="x"),
        LorebookEntry(uid=2, constant=True, content="y"),
        said=("a dragon",),
        settings=ActivationSettings(scan_depth=0),
    )

    assert [e.uid for e in result.entries] == [2]


@pytest.mark.parametrize(
    ("flag", "extras", "expected"),
    [
        ("match_persona_description", ScanExtras(persona_description="a dragon rider"), True),
        ("match_character_description", ScanExtras(character_description="a dragon"), True),
        ("match_character_personality", ScanExtras(character_personality="dragon-like"), True),
        ("match_character_depth_prompt", ScanExtras(character_depth_prompt="dragon"), True),
        ("match_scenario", ScanExtras(scenario="a dragon's lair"), True),
        ("match_creator_notes", ScanExtras(creator_notes="dragons!"), True),
        ("match_scenario", ScanExtras(persona_description="a dragon rider"), False),
    ],
    ids=[
        "persona-description",
        "character-description",
        "character-personality",
        "character-depth-prompt",
        "scenario",
        "creator-notes",
        "only-the-flagged-text",
    ],
)
def test_extra_texts_are_scanned_by_flagged_entries(flag: str, extras: ScanExtras, expected: bool) -> None:
    flagged = LorebookEntry(uid=1, keys=["dragon"], content="x", **{flag: True})
    unflagged = LorebookEntry(uid=2, keys=["dragon"], content="y")

    result = activate(flagged, unflagged, said=("hello",), extras=extras)

    assert ([e.uid for e in result.entries] == [1]) is expected


def naive_match(key: str, text: str, *, case_sensitive: bool, whole_words: bool) -> bool:
    """SillyTavern's matchKeys, written out plainly, for the keys this test makes."""
    key = key.strip()
    if not key:
        return False
    if key.startswith("/") and key.rstrip("i").endswith("/") and len(key) > 2:
        flags = re.IGNORECASE if key.endswith("i") else 0
        return re.search(key.rstrip("i")[1:-1], text, flags) is not None
    if not case_sensitive:
        key, text = key.lower(), text.lower()
    if whole_words and not any(character.isspace() for character in key):
        return re.search(rf"(?:^|\W){re.escape(key)}(?:$|\W)", text) is not None
    return key in text


def test_indexed_lookup_agrees_with_matching_each_key() -> None:
    rng = random.Random(1234)
    alphabet = "abcdeAB é_'-"
    for _ in range(300):
        keys = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(6)]
        keys += ["/" + rng.choice(["ab", "a.c", "\\bab", "b+e"]) + "/" + rng.choice(["", "i"])]
        pieces = ["".join(rng.choice(alphabet + "\n ") for _ in range(rng.randint(0, 40))) for _ in range(3)]
        text = "\n".join(pieces)
        entries = [LorebookEntry(uid=i, keys=[key]) for i, key in enumerate(keys)]
        book = lorebook_compile(BookInput(id=1, book=Lorebook(entries=entries)))
        haystack = Haystack([ScanText(piece) for piece in pieces])
        for case_sensitive in (False, True):
            for whole_words in (False, True):
                table = book.key_table(0, case_sensitive=case_sensitive, whole_words=whole_words)
                lengths = table.lengths or (1, 1)
                expected = {
                    index
                    for index, key in enumerate(keys)
                    if naive_match(key, text, case_sensitive=case_sensitive, whole_words=whole_words)
                }
                assert set(table.hits(haystack, lengths, set())) == expected, (
                    keys,
                    text,
                    case_sensitive,
                    whole_words,
                )


def test_a_haystack_built_on_the_last_one_finds_what_a_fresh_one_finds() -> None:
    # A recursion pass reads the last pass's haystack plus new pieces: it asks the old one and
    # searches only the new pieces, or their sections (the contents a recursion piece joins).
    rng = random.Random(4321)
    alphabet = "abcdeAB é_'-"
    for _ in range(300):
        keys = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(6)]
        keys += [
            "/" + rng.choice(["ab", "a.c", "\\bab", "b+e", "ab\\s?e"]) + "/" + rng.choice(["", "i", "m"])
        ]
        keys += ["a\nb", "e\n"]  # keys holding a newline can span two pieces
        pieces = ["".join(rng.choice(alphabet + "\n ") for _ in range(rng.randint(0, 30))) for _ in range(4)]
        sections = [piece for piece in pieces[3].split("\n") if piece]
        entries = [LorebookEntry(uid=i, keys=[key]) for i, key in enumerate(keys)]
        book = lorebook_compile(BookInput(id=1, book=Lorebook(entries=entries)))
        first = [ScanText(piece) for piece in pieces[:2]]
        added = [ScanText(pieces[2]), ScanText.joined(sections)]
        base = Haystack(first)
        built_on = Haystack([*first, *added], base=base)
        fresh = Haystack([*(ScanText(piece) for piece in pieces[:3]), ScanText("\n".join(sections))])
        for case_sensitive in (False, True):
            for whole_words in (False, True):
                table = book.key_table(0, case_sensitive=case_sensitive, whole_words=whole_words)
                lengths = table.lengths or (1, 1)
                table.hits(base, lengths, set())  # what the last pass asked

                assert set(table.hits(built_on, lengths, set())) == set(table.hits(fresh, lengths, set())), (
                    keys,
                    pieces,
                    case_sensitive,
                    whole_words,
                )


@pytest.mark.parametrize(
    ("key", "literal", "anchor", "piecewise", "window"),
    [
        ("/\\bdrag(on|ons)\\b/i", "drag", "drag", True, 7),
        ("/Ärger/i", "rger", "rger", True, 5),
        ("/Ärger/", "Ärger", "rger", True, 5),
        ("/dragon.*king/", "dragon", "dragon", True, 0),
        ("/dragon.*king/s", "dragon", "dragon", False, 0),
        ("/^User: hi/", "User: hi", "user", False, 0),
        ("/^User: hi/m", "User: hi", "user", True, 8),
        ("/a|b/", "", "", True, 0),
        ("/dragon(?= king)/", "dragon", "dragon", False, 0),
        ("/dragon\\s+king/", "dragon", "dragon", False, 0),
        ("/dragon[^x]king/", "dragon", "dragon", False, 0),
        ("/dragon[^\\n]king/", "dragon", "dragon", True, 11),
        ("/dragon/y", "dragon", "dragon", False, 0),
    ],
    ids=[
        "word-boundaries-and-a-group",
        "case-insensitive-literal-is-ascii",
        "case-sensitive-literal-keeps-letters",
        "unbounded-width",
        "dot-all-crosses-lines",
        "start-anchor-needs-the-whole-text",
        "multiline-start-anchor-is-per-line",
        "no-literal",
        "lookahead",
        "whitespace-class-holds-newline",
        "negated-class-holds-newline",
        "negated-newline-class",
        "sticky-anchors-to-the-start",
    ],
)
def test_regex_key_facts(key: str, literal: str, anchor: str, piecewise: bool, window: int) -> None:
    parsed = key_parse(key)

    assert isinstance(parsed, RegexKey)
    assert (parsed.literal, parsed.anchor, parsed.piecewise, parsed.window) == (
        literal,
        anchor,
        piecewise,
        window,
    )


def test_regex_key_on_pieces_agrees_with_searching_the_joined_text() -> None:
    rng = random.Random(99)
    atoms = ["ab", "a", "b", "s", "is", "\\b", "^", "$", "\\n", ".", "[^a]", "\\s", "\\w", "x?", "(?:ab|b)"]
    atoms += ["(?=a)", "(?s:.)", "\\d", "a{1,3}", "[ab]+", "b*", "\\B", "(b)\\1"]
    alphabet = "abAB x\n1s\u017f\u0130\u0131"
    for _ in range(3000):
        source = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 4)))
        flags = rng.choice(["", "i", "m", "s", "im"])
        key = key_parse(f"/{source}/{flags}")
        pieces = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 4))
        ]
        assert isinstance(key, RegexKey)
        assert key.pattern is not None, source
        python_flags = sum({"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[flag] for flag in flags)
        expected = regex.search(source, "\n".join(pieces), python_flags) is not None

        found = key.matches(
            Haystack([ScanText(piece) for piece in pieces]), case_sensitive=False, whole_words=False
        )

        assert found is expected, (source, flags, pieces)


def test_windowed_regex_search_handles_many_occurrences() -> None:
    key = key_parse("/\\bab\\b/")
    text = " ".join(["abc"] * 100 + ["ab"])

    assert isinstance(key, RegexKey)
    assert key.window == 2
    assert key.matches(Haystack([ScanText(text)]), case_sensitive=False, whole_words=False) is True
    assert key.matches(Haystack([ScanText(text[:-3])]), case_sensitive=False, whole_words=False) is False


def test_compiled_book_stands_in_for_its_input() -> None:
    book = BookInput(
        id=1,
        book=Lorebook(
            entries=[
                LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
                LorebookEntry(uid=2, keys=["/FIRE/i"], content="Hot."),
                LorebookEntry(uid=3, keys=["knight"], content="Brave."),
            ]
        ),
    )
    compiled = lorebook_compile(book)
    history = [ScanMessage(name="User", text="a dragon", is_user=True)]

    def run(books: list[BookInput] | list[CompiledBook]) -> ActivationResult:
        return lorebook_activate(
            books=books,
            history=history,
            settings=ActivationSettings(),
            state={},
            turn=1,
            rng=random.Random(0),
            count_tokens=word_count,
        )

    fresh, first_reuse, second_reuse = run([book]), run([compiled]), run([compiled])

    assert fresh == first_reuse == second_reuse
    assert [entry.uid for entry in fresh.entries] == [2, 1]


def test_a_compiled_book_remembers_nothing_one_chat_could_see_in_another() -> None:
    # Key tables remember what they found in each text (messages recur turn after turn, contents
    # recur as recursion text): another chat with other texts must find only its own.
    compiled = lorebook_compile(
        BookInput(
            id=1,
            book=Lorebook(
                entries=[
                    LorebookEntry(uid=1, keys=["dragon"], content="It breathes fire."),
                    LorebookEntry(uid=2, keys=["/FIRE/i"], content="Hot.", secondary_keys=["smoke"]),
                    LorebookEntry(uid=3, keys=["knight"], content="Brave."),
                ]
            ),
        )
    )

    def run(*said: str) -> set[int | str | None]:
        result = lorebook_activate(
            books=[compiled],
            history=[ScanMessage(name="User", text=text, is_user=True) for text in said],
            settings=ActivationSettings(),
            state={},
            turn=len(said),
            rng=random.Random(0),
            count_tokens=word_count,
        )
        return {entry.uid for entry in result.entries}

    assert run("a dragon", "smoke rises") == {1, 2}
    assert run("a knight") == {3}
    assert run("a dragon") == {1}
    assert run("a dragon", "smoke rises") == {1, 2}
