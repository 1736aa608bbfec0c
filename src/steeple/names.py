"""Display names as other people see them: clean, single-line, capped.

Anonymous viewers choose their own names, and every viewer's page, terminal and
FreeShow screen shows them. A name therefore loses what could change how the text
around it is shown rather than add letters to it: control characters and terminal
escape sequences (a colour code or an OSC title change in ``steeple chat``), format
characters (bidi overrides that reverse the rest of a line, zero-width characters
that make two names look alike or a name look empty). Whitespace runs become one
space, the ends are trimmed and the name is cut to its column's size, so the database
never truncates (or refuses) it differently on each engine.

Message content is not a name: it keeps its bytes (FreeShow carries JSON in it).
"""

from __future__ import annotations

import re
import unicodedata

ANONYMOUS = "Anonymous"
GUEST_SUFFIX = " (guest)"

MESSAGE_NAME_LENGTH = 45
"""``messages.displayName`` is varchar(45)."""
CONNECTION_NAME_LENGTH = 100
"""``connections.displayName`` is varchar(100)."""

# ECMA-48 sequences, 7-bit (ESC ...) and 8-bit (C1) forms, removed whole: dropping
# only the ESC byte would leave "[31m" or "]0;title" behind in the name.
_ESCAPE_SEQUENCE = re.compile(
    # strings (OSC, DCS, SOS, PM, APC) up to BEL or ST; unterminated ones to the end
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    # control sequences (CSI): parameters, intermediates, one final byte
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    # every other escape: intermediates and one final byte
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)

# Cc control, Cf format (bidi, zero-width, BOM, tags), Cs lone surrogates.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# Letters that render as nothing at all (Hangul fillers): a classic "blank name".
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def clean(raw: str, max_length: int) -> str:
    """``raw`` without escapes and invisible characters, one-spaced, trimmed, capped."""
    text = _ESCAPE_SEQUENCE.sub("", raw)
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")  # tabs, newlines, NBSP, line separators: all one space
        elif unicodedata.category(char) not in _INVISIBLE_CATEGORIES and (
            char not in _BLANK_LETTERS
        ):
            kept.append(char)
    return " ".join("".join(kept).split())[:max_length].rstrip()


def display_name(*candidates: object, max_length: int, fallback: str = ANONYMOUS) -> str:
    """The first candidate that is still a name once cleaned, else ``fallback``.

    Every path that stores a display name goes through here, so they all agree.
    """
    for candidate in candidates:
        if isinstance(candidate, str):
            name = clean(candidate, max_length)
            if name:
                return name
    return fallback


def key(name: str) -> str:
    """What two names must share to be "the same name" to a reader: case, width and
    compatibility forms (fullwidth letters, ligatures) do not tell them apart, nor
    anything past the first 45 characters (all that a message shows of a name)."""
    cleaned = clean(name, MESSAGE_NAME_LENGTH)
    return unicodedata.normalize("NFKC", cleaned).casefold()


def as_guest(name: str, max_length: int) -> str:
    """``name`` marked as a guest's, the mark always visible within ``max_length``."""
    room = max_length - len(GUEST_SUFFIX)
    return name[:room].rstrip() + GUEST_SUFFIX
