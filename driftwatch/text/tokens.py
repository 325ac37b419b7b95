"""Tokens of a text, also for scripts written without spaces between words, and their count per row."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np

# Scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Myanmar, Khmer): each of their
# characters, with the marks written on it, is a token. Elsewhere a token is a run of letters and their combining
# marks (Devanagari vowel signs, Arabic harakat), lowercased; digits and punctuation are not tokens. Marks outside
# the Basic Multilingual Plane are left out: Python's re has no class for marks, and a class that long is slower.
_NO_SPACES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
_BMP = 0x10000
_OTHER, _LETTER, _UNSPACED, _MARK, _UNSPACED_MARK = 0, 1, 2, 3, 4


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Mc", "Me")


_LETTER_CLASS = f"[^\\W\\d_{_NO_SPACES}]"
# The same tokens in ASCII text, where the general expression takes twice as long.
_ASCII_TOKEN = re.compile("[A-Za-z]+")


@cache
def _pattern() -> re.Pattern[str]:
    marks: list[list[int]] = []
    for cp in range(_BMP):
        if _is_mark(chr(cp)):
            if marks and marks[-1][1] == cp - 1:
                marks[-1][1] = cp
            else:
                marks.append([cp, cp])
    cls = "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in marks)
    return re.compile(f"[{_NO_SPACES}][{cls}]*|{_LETTER_CLASS}(?:{_LETTER_CLASS}|[{cls}])*")


@cache
def _classes() -> np.ndarray:
    """Per BMP code point: in no token, a letter, a character of a script without spaces, or a mark (of either)."""
    unspaced, letter = re.compile(f"[{_NO_SPACES}]"), re.compile(_LETTER_CLASS)
    table = np.zeros(_BMP + 1, dtype=np.uint8)
    for cp in range(_BMP):
        ch = chr(cp)
        if _is_mark(ch):
            table[cp] = _UNSPACED_MARK if unspaced.match(ch) else _MARK
        elif unspaced.match(ch):
            table[cp] = _UNSPACED
        elif letter.match(ch):
            table[cp] = _LETTER
    return table


def tokens(text: str | None) -> list[str]:
    """The text's tokens, lowercased."""
    if not isinstance(text, str):
        return []
    return (_ASCII_TOKEN if text.isascii() else _pattern()).findall(text.lower())


def token_count(text: str | None) -> int:
    """len(tokens(text)) from a table of character classes, at a fraction of the cost on long rows.

    The two differ by a token only where a combining mark has no letter of its own kind before it (a stray mark
    after a space, an accent on a Han character, a Thai vowel sign on a Latin letter), which is malformed text.
    """
    if not isinstance(text, str) or not text:
        return 0
    if text.isascii():
        return len(_ASCII_TOKEN.findall(text))
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = _classes()[np.minimum(codes, _BMP)]
    # A token starts at each character of a script without spaces, at a letter not continuing a letter or a mark,
    # and at a mark of those scripts after a character in no token; any other mark continues the token before it.
    previous = np.concatenate(([_OTHER], cls[:-1]))
    starts = (cls == _UNSPACED) | ((cls == _LETTER) & (previous != _LETTER) & (previous != _MARK))
    starts |= (cls == _UNSPACED_MARK) & (previous == _OTHER)
    return int(starts.sum())
