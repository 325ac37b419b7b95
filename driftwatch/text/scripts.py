"""The Unicode script of each letter, per row: shares by script and the row's main script, mojibake included."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

import numpy as np

# Scripts named as such; letters of any other script count as "other". Han, Hiragana and Katakana stay apart, so a
# share of Japanese kana shows next to Chinese.
SCRIPTS = (
    "Latin",
    "Cyrillic",
    "Greek",
    "Arabic",
    "Hebrew",
    "Devanagari",
    "Bengali",
    "Tamil",
    "Han",
    "Hiragana",
    "Katakana",
    "Hangul",
    "Thai",
    "Georgian",
    "Armenian",
    "Ethiopic",
    "other",
)
# Unicode character names start with the script's name in these words (CJK for Han ideographs).
# The prolonged sound mark (ー), written in both kana, is named KATAKANA-HIRAGANA.
_NAME_WORDS = {s.upper(): s for s in SCRIPTS[:-1]} | {
    "CJK": "Han",
    "ETHIOPIC": "Ethiopic",
    "KATAKANA-HIRAGANA": "Katakana",
}
# Fullwidth Latin (U+FF21-FF5A) and halfwidth katakana are their script written wider or narrower.
_WIDTH = ("FULLWIDTH", "HALFWIDTH")
# Every code point up to here gets a table entry (the Basic and Supplementary planes with letters in use).
_LAST = 0x2FFFF
NONE = "none"  # a row without letters
MIXED = "mixed"  # no script holds MAIN_SHARE of the row's letters
MOJIBAKE = "mojibake"  # UTF-8 text that was decoded as cp1252 or latin-1 somewhere on its way
# Japanese writes with Han and kana together: a row of them has this main script, not "mixed".
HAN_KANA = "Han+Kana"
_HAN, _KANA = SCRIPTS.index("Han"), [SCRIPTS.index("Hiragana"), SCRIPTS.index("Katakana")]
# A UTF-8 lead byte read as cp1252 (Â-ß) followed by a continuation byte read so (0x80-0xBF and cp1252's
# characters there) or by U+FFFD where the decoder had none.
_UTF8_AS_CP1252 = re.compile(
    "[\u00c2-\u00df][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122\ufffd]"
)
# A row's main script holds at least this share of its letters.
MAIN_SHARE = 0.8


@cache
def _table() -> np.ndarray:
    """Script index per code point (len(SCRIPTS) for a non-letter); built once, about 0.2 s."""
    other = SCRIPTS.index("other")
    table = np.full(_LAST + 2, len(SCRIPTS), dtype=np.uint8)
    for cp in range(_LAST + 1):
        ch = chr(cp)
        if not ch.isalpha():
            continue
        words = unicodedata.name(ch, "").split(" ")
        word = words[1] if words[0] in _WIDTH and len(words) > 1 else words[0]
        script = _NAME_WORDS.get(word)
        table[cp] = SCRIPTS.index(script) if script is not None else other
    return table


def script_codes(text: str) -> np.ndarray:
    """Each character's index in SCRIPTS (len(SCRIPTS) for a character that is not a letter)."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return _table()[np.minimum(codes, _LAST + 1)]


def letter_counts(text: str) -> np.ndarray:
    """Letters of the text per script, in SCRIPTS order."""
    return np.bincount(script_codes(text), minlength=len(SCRIPTS) + 1)[: len(SCRIPTS)]


def is_mojibake(text: str) -> bool:
    """Whether the text reads as UTF-8 once encoded back as cp1252 (or latin-1): the usual wrong-decoding damage.

    A text a lossy decoder also damaged (U+FFFD for bytes cp1252 lacks) cannot go back; there two or more lead
    characters of UTF-8 sequences followed by a continuation character (Ã©, Ð¿, Ñ€) give it away.
    """
    if text.isascii():
        return False
    for codec in ("cp1252", "latin-1"):
        try:
            repaired = text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        return repaired != text
    return len(_UTF8_AS_CP1252.findall(text)) >= 2


def _main(counts: np.ndarray, letters: int) -> str:
    kana = int(counts[_KANA].sum())
    if kana and kana + counts[_HAN] >= MAIN_SHARE * letters:
        return HAN_KANA
    top = int(counts.argmax())
    return SCRIPTS[top] if counts[top] >= MAIN_SHARE * letters else MIXED


def main_scripts(texts: Sequence[str | None]) -> tuple[list[str], np.ndarray]:
    """Each row's main script (or none, mixed, mojibake) and the letters of all rows per script."""
    total = np.zeros(len(SCRIPTS), dtype=np.int64)
    out: list[str] = []
    for text in texts:
        if not isinstance(text, str) or not text:
            out.append(NONE)
            continue
        counts = letter_counts(text)
        total += counts
        letters = int(counts.sum())
        if letters == 0:
            out.append(NONE)
        elif is_mojibake(text):
            out.append(MOJIBAKE)
        else:
            out.append(_main(counts, letters))
    return out, total
