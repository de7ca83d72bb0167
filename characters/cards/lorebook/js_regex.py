"""`/pattern/flags` keys: JavaScript regexes compiled for Python's `re`, and what we can learn from them.

SillyTavern treats a key written `/pattern/flags` (flags among g, i, m, s, u, y,
no unescaped `/` inside) as a JavaScript RegExp. We rewrite the syntax Python
spells differently (named groups, `\\k<name>`, `\\u{...}`, `\\cX`, `[^]`, `[]`,
identity escapes such as `\\A`); what still does not compile never matches.

Besides the pattern we derive facts that spare most (slow, case-insensitive)
searches:
* a literal every match contains, and its longest ASCII word run (the anchor):
  a text without them cannot match;
* whether a match can never cross a newline, look around or depend on where
  the text starts or ends, in which case searching each piece of the scan
  buffer on its own (and remembering the answer across passes) is the same;
* for such a pattern, the longest match it can make: then only the text
  around each occurrence of the literal needs searching.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from re import _constants as sre_constants
from re import _parser as sre_parse

import regex

from characters.cards.lorebook.regex_limits import regex_compile

_JS_REGEX_KEY = re.compile(r"/([\w\W]+?)/([gimsuy]*)\Z")
_UNESCAPED_SLASH = re.compile(r"(?:^|[^\\])/")
_ASCII_WORD_RUN = re.compile(r"[A-Za-z0-9_]{2,}")
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "u": 0, "g": 0, "y": 0}
# Escapes JavaScript gives a meaning to; any other escaped ASCII letter is the letter itself.
_JS_LETTER_ESCAPES = frozenset("dDwWsSbBfnrtvxuck")
_NEWLINE = ord("\n")
_LONGEST_WINDOW = 256


@dataclass(frozen=True)
class JsRegex:
    # On the time-limited `regex` engine (regex_limits); None: it does not compile, `error` says why.
    pattern: regex.Pattern[str] | None
    error: str = ""
    source: str = ""  # in Python's syntax
    flags: int = 0
    sticky: bool = False  # the y flag: a fresh RegExp only matches at the start
    ignore_case: bool = False
    literal: str = ""  # in every match; lower-cased ASCII when the regex ignores case
    anchor: str = ""  # the literal's longest ASCII word run, lower-cased
    piecewise: bool = False  # searching each newline-joined piece gives the same answer
    window: int = 0  # the longest a match can be, when a literal and that bound let searches be local


def js_regex_compile(text: str) -> JsRegex | None:
    """The regex a key written `/pattern/flags` stands for, or None if it is plain text."""
    found = _JS_REGEX_KEY.match(text) if text.startswith("/") else None
    if found is None:
        return None
    source, flags = found.groups()
    if _UNESCAPED_SLASH.search(source):
        return None  # SillyTavern reads it as plain text
    if len(set(flags)) != len(flags):
        return JsRegex(pattern=None, error=f"repeated flag in {flags!r}")
    try:
        python_source = _python_pattern(source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FutureWarning for JavaScript's "[[" and friends
            checked = re.compile(python_source, sum(_FLAGS[flag] for flag in flags))
            pattern = regex_compile(python_source, checked.flags & ~re.UNICODE)
        parsed = sre_parse.parse(python_source, checked.flags)
    except (re.error, regex.error, ValueError, OverflowError, RecursionError) as error:
        return JsRegex(pattern=None, error=str(error))
    ignore_case = bool(checked.flags & re.IGNORECASE)
    literal = _required_literal(parsed, ascii_only=ignore_case)
    sticky = "y" in flags
    piecewise = not sticky and _stays_within_a_line(parsed, checked.flags)
    longest_match = parsed.getwidth()[1]
    return JsRegex(
        pattern=pattern,
        source=python_source,
        flags=checked.flags,
        sticky=sticky,
        ignore_case=ignore_case,
        literal=literal,
        anchor=max(_ASCII_WORD_RUN.findall(literal.lower()), key=len, default=""),
        piecewise=piecewise,
        window=longest_match if piecewise and literal and longest_match <= _LONGEST_WINDOW else 0,
    )


def _required_literal(parsed: sre_parse.SubPattern, *, ascii_only: bool) -> str:
    """The longest run of literal characters at the top level of the pattern, or ""."""
    runs: list[str] = []
    run: list[str] = []
    for op, value in parsed:
        if op is sre_constants.LITERAL and not (ascii_only and value > 127):
            run.append(chr(value))
        elif op is not sre_constants.AT:  # anchors are zero-width: the run goes on
            runs.append("".join(run))
            run = []
    runs.append("".join(run))
    longest = max(runs, key=len)
    if len(longest) < 2:
        return ""
    return longest.lower() if ascii_only else longest


def _stays_within_a_line(parsed: sre_parse.SubPattern | list[tuple[object, object]], flags: int) -> bool:
    """Whether no match can contain a newline, look around, or anchor to the text's start or end.

    Pieces of the scan buffer are joined by newlines, so such a pattern matches the
    joined text exactly when it matches one of the pieces. Unknown constructs say no.
    """
    for op, value in parsed:
        if op is sre_constants.LITERAL:
            if value == _NEWLINE:
                return False
        elif op is sre_constants.NOT_LITERAL:
            if value != _NEWLINE:
                return False
        elif op is sre_constants.ANY:
            if flags & re.DOTALL:
                return False
        elif op is sre_constants.IN:
            if _class_has_newline(value):  # type: ignore[arg-type]
                return False
        elif op is sre_constants.AT:
            if value in _WHOLE_TEXT_ASSERTIONS:
                return False
            if value in (sre_constants.AT_BEGINNING, sre_constants.AT_END) and not flags & re.MULTILINE:
                return False
        elif op is sre_constants.SUBPATTERN:
            _group, add_flags, del_flags, inner = value  # type: ignore[misc]
            if not _stays_within_a_line(inner, (flags | add_flags) & ~del_flags):
                return False
        elif op is sre_constants.BRANCH:
            if not all(_stays_within_a_line(branch, flags) for branch in value[1]):  # type: ignore[index]
                return False
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            if not _stays_within_a_line(value[2], flags):  # type: ignore[index]
                return False
        elif op is sre_constants.ATOMIC_GROUP:
            if not _stays_within_a_line(value, flags):
                return False
        elif op is not sre_constants.GROUPREF:  # a back-reference repeats what its group matched
            return False  # lookarounds, conditionals and anything new
    return True


def _class_has_newline(items: list[tuple[object, object]]) -> bool:
    negated = False
    inside = False
    for op, value in items:
        if op is sre_constants.NEGATE:
            negated = True
        elif op is sre_constants.LITERAL:
            inside = inside or value == _NEWLINE
        elif op is sre_constants.RANGE:
            low, high = value  # type: ignore[misc]
            inside = inside or low <= _NEWLINE <= high
        elif op is sre_constants.CATEGORY:
            inside = inside or value in _CATEGORIES_WITH_NEWLINE
        else:
            return True  # unknown: assume the worst
    return inside != negated


# \A and \Z; and \B, which Python never matches in an empty piece although it does at the
# end of a joined text.
_WHOLE_TEXT_ASSERTIONS = frozenset(
    {
        sre_constants.AT_BEGINNING_STRING,
        sre_constants.AT_END_STRING,
        sre_constants.AT_NON_BOUNDARY,
        sre_constants.AT_UNI_NON_BOUNDARY,
        sre_constants.AT_LOC_NON_BOUNDARY,
    }
)
_CATEGORIES_WITH_NEWLINE = frozenset(
    {
        sre_constants.CATEGORY_SPACE,
        sre_constants.CATEGORY_NOT_DIGIT,
        sre_constants.CATEGORY_NOT_WORD,
        sre_constants.CATEGORY_LINEBREAK,
        sre_constants.CATEGORY_LOC_NOT_WORD,
        sre_constants.CATEGORY_UNI_SPACE,
        sre_constants.CATEGORY_UNI_NOT_DIGIT,
        sre_constants.CATEGORY_UNI_NOT_WORD,
        sre_constants.CATEGORY_UNI_LINEBREAK,
    }
)


def _python_pattern(source: str) -> str:
    """JavaScript regex syntax that Python's `re` spells differently, rewritten."""
    out: list[str] = []
    index, length, in_class = 0, len(source), False
    while index < length:
        char = source[index]
        if char == "\\" and index + 1 < length:
            escaped, index = _escape(source, index)
            out.append(escaped)
            continue
        if in_class:
            in_class = char != "]"
        elif source.startswith("[^]", index):
            out.append(r"[\s\S]")  # JavaScript: any character
            index += 3
            continue
        elif source.startswith("[]", index):
            out.append("(?!)")  # JavaScript: an empty class, which never matches
            index += 2
            continue
        elif char == "[":
            in_class = True
        elif source.startswith("(?<", index) and source[index + 3 : index + 4] not in ("=", "!", ""):
            out.append("(?P<")  # named group
            index += 3
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _escape(source: str, index: int) -> tuple[str, int]:
    """The Python spelling of the escape at `index`, and the index after it."""
    letter = source[index + 1]
    if letter == "k" and source.startswith("<", index + 2):
        end = source.find(">", index + 3)
        if end != -1:
            return f"(?P={source[index + 3 : end]})", end + 1
    if letter == "u" and source.startswith("{", index + 2):
        end = source.find("}", index + 3)
        if end != -1:
            return f"\\U{int(source[index + 3 : end], 16):08x}", end + 1  # ValueError: not hex
    control = source[index + 2 : index + 3]
    if letter == "c" and control.isascii() and control.isalpha():
        return f"\\x{ord(control) % 32:02x}", index + 3
    if letter.isascii() and letter.isalpha() and letter not in _JS_LETTER_ESCAPES:
        if letter in "pP":
            raise ValueError("Unicode property escapes are not supported")
        return letter, index + 2  # JavaScript's identity escape, e.g. \A is "A"
    return source[index : index + 2], index + 2
