"""A labelled corpus of clinical-intake sentences written for driftwatch: monolingual, code-switched and edge rows.

The sentences live in `sentences/<code>.txt` (one a line, `#` lines are comments) and `sentences/code_switched.txt`
(`[xx]` tags open a span of language xx). Tests and benchmarks measure language identification on it; the example
generator may draw from it. Languages are ISO 639-1 codes; romanised Hindi inside code-switched rows is `hi`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

SHORT = "short"
LONG = "long"
CODE_SWITCHED = "code_switched"
# Edge kinds: rows a text feature receives in production that hold no language, or a damaged one.
EMPTY = "empty"
WHITESPACE = "whitespace"
EMOJI = "emoji"
DIGITS = "digits"
PUNCTUATION = "punctuation"
MOJIBAKE = "mojibake"
EDGE_KINDS = (EMPTY, WHITESPACE, EMOJI, DIGITS, PUNCTUATION, MOJIBAKE)

# The label of a row with no letters at all (see driftwatch.text.language).
NO_LANGUAGE = "none"

SCRIPTS: dict[str, str] = {
    "en": "Latin",
    "es": "Latin",
    "fr": "Latin",
    "de": "Latin",
    "pt": "Latin",
    "it": "Latin",
    "tl": "Latin",
    "ru": "Cyrillic",
    "el": "Greek",
    "ar": "Arabic",
    "hi": "Devanagari",
    "zh": "Han",
    "ja": "Japanese",
}
LANGUAGES: tuple[str, ...] = tuple(SCRIPTS)
CODE_SWITCHED_PAIRS: tuple[tuple[str, str], ...] = (("es", "en"), ("hi", "en"), ("ar", "fr"), ("tl", "en"))

LONG_PER_LANGUAGE = 10
LONG_MIN_CHARS = 500
LONG_MAX_CHARS = 700
# Han and Japanese are written without spaces between sentences.
_NO_SPACE = {"zh", "ja"}
_TAG = re.compile(r"\[([a-z]{2})\]")


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of a text written in `language`."""

    start: int
    end: int
    language: str


@dataclass(frozen=True)
class LabelledText:
    """One text and what it is: its language (the first span's for code-switched rows) and its kind."""

    text: str
    language: str
    kind: str
    spans: tuple[Span, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        """The distinct languages of the spans, in order of appearance (the row's language when it has none)."""
        return tuple(dict.fromkeys(s.language for s in self.spans)) or (self.language,)


def _lines(name: str) -> list[str]:
    text = files("driftwatch.text").joinpath("sentences", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def _short(language: str) -> tuple[LabelledText, ...]:
    if language not in SCRIPTS:
        raise ValueError(f"unknown corpus language {language!r}; known: {', '.join(LANGUAGES)}")
    return tuple(LabelledText(line, language, SHORT) for line in _lines(f"{language}.txt"))


@cache
def _long(language: str) -> tuple[LabelledText, ...]:
    """Distinct short sentences of one language joined until the text has 500-700 characters, seeded per text."""
    sentences = [t.text for t in _short(language)]
    sep = "" if language in _NO_SPACE else " "
    out = []
    for i in range(LONG_PER_LANGUAGE):
        order = sentences[:]
        random.Random(f"{language}-{i}").shuffle(order)
        text = ""
        for sentence in order:
            candidate = f"{text}{sep}{sentence}" if text else sentence
            if len(candidate) > LONG_MAX_CHARS:
                continue
            text = candidate
            if len(text) >= LONG_MIN_CHARS:
                break
        out.append(LabelledText(text, language, LONG))
    return tuple(out)


def short_texts(language: str | None = None) -> list[LabelledText]:
    """The short texts (40-80 characters; 12-30 in zh and ja, which say as much in fewer), one language or all."""
    return [t for code in ([language] if language else LANGUAGES) for t in _short(code)]


def long_texts(language: str | None = None) -> list[LabelledText]:
    """Ten texts of 500-700 characters per language, each joining distinct short sentences of that language."""
    return [t for code in ([language] if language else LANGUAGES) for t in _long(code)]


def monolingual() -> list[LabelledText]:
    """Every short and long text."""
    return short_texts() + long_texts()


def parse_tagged(line: str) -> LabelledText:
    """A code-switched row from `[xx]text [yy]text`: the tags removed, one span per tag."""
    parts = _TAG.split(line)
    if parts[0].strip():
        raise ValueError(f"a code-switched row must start with a [xx] tag: {line[:40]!r}")
    text, spans = "", []
    for language, piece in zip(parts[1::2], parts[2::2], strict=True):
        spans.append(Span(len(text), len(text) + len(piece), language))
        text += piece
    return LabelledText(text, spans[0].language, CODE_SWITCHED, tuple(spans))


@cache
def _code_switched() -> tuple[LabelledText, ...]:
    return tuple(parse_tagged(line) for line in _lines("code_switched.txt"))


def code_switched(pair: tuple[str, str] | None = None) -> list[LabelledText]:
    """The code-switched rows (15 per pair of CODE_SWITCHED_PAIRS), one pair (in either order) or all."""
    rows = list(_code_switched())
    if pair is None:
        return rows
    return [r for r in rows if set(r.languages) == set(pair)]


def pair_of(row: LabelledText) -> tuple[str, str]:
    """The CODE_SWITCHED_PAIRS entry a code-switched row belongs to."""
    for pair in CODE_SWITCHED_PAIRS:
        if set(row.languages) == set(pair):
            return pair
    raise ValueError(f"row languages {row.languages} are not one of the corpus pairs")


def mojibake(text: str, codec: str = "cp1252") -> str:
    """`text` encoded as UTF-8 and decoded as `codec`, as a misconfigured reader does ('Patiént' -> 'PatiÃ©nt')."""
    return text.encode("utf-8").decode(codec, errors="replace")


def edge_rows() -> list[LabelledText]:
    """Rows without a language (empty, blank, emoji, digits, punctuation) and mojibake of five languages."""
    none = [
        ("", EMPTY),
        ("   ", WHITESPACE),
        ("\t\n ", WHITESPACE),
        ("😷🤒💊", EMOJI),
        ("👍", EMOJI),
        ("🙏 🙏 🙏", EMOJI),
        ("120/80", DIGITS),
        ("38.5", DIGITS),
        ("2024-03-01 14:35", DIGITS),
        ("?!...", PUNCTUATION),
        ("-- / --", PUNCTUATION),
    ]
    rows = [LabelledText(text, NO_LANGUAGE, kind) for text, kind in none]
    for language, index, codec in [
        ("fr", 2, "cp1252"),
        ("es", 6, "cp1252"),
        ("de", 20, "latin-1"),
        ("pt", 0, "cp1252"),
    ]:
        rows.append(LabelledText(mojibake(_short(language)[index].text, codec), language, MOJIBAKE))
    rows.append(LabelledText(mojibake(_short("ru")[0].text), "ru", MOJIBAKE))
    return rows
