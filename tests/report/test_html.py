"""The report page of a stored drifted check: verdicts, charts, escaping, redacted exemplars, links, no fetches."""

from __future__ import annotations

import re

import pytest

from driftwatch.checks.explain import CategoricalExplanation, NumericExplanation
from driftwatch.config import load_config
from driftwatch.ood.results import Exemplar
from driftwatch.report import RENDERER_VERSION, render_report
from driftwatch.report.cache import ReportCache, cache_name
from driftwatch.report.format import label
from driftwatch.storage import CheckRecord, HistoryStore

from .conftest import HOSTILE, MARKER, Stored


@pytest.fixture(scope="module")
def middle(stored: Stored) -> tuple[CheckRecord, str]:
    """The second of the three checks and its page, rendered as the daemon does (neighbours, stored exemplars)."""
    with HistoryStore(load_config(stored.config).storage_url) as store:
        around = store.neighbours(stored.ids[1])
        record = store.get_check(stored.ids[1])
        found = store.get_exemplars(stored.ids[1])
    assert around == (stored.ids[0], stored.ids[2]) and record is not None and found is not None
    return record, render_report(record, found[1], previous_id=around[0], next_id=around[1])


def _section(page: str, name: str) -> str:
    """The feature section whose heading names `name`."""
    (found,) = re.findall(rf'<section class="feature" id="feature-\d+"><h3>{re.escape(name)} .*?</section>', page)
    return found


def test_the_header_says_the_verdict_the_rule_and_the_window(middle: tuple[CheckRecord, str]) -> None:
    record, page = middle
    assert f"<title>driftwatch check {record.id}: triage</title>" in page
    assert '<p class="verdict bad">Dataset drift</p>' in page
    assert f"<dd>{record.reference_version}</dd>" in page
    assert "against level 0.05; multiple testing: bh." in page  # the calibrated rule
    assert f"<dd>{record.drifted_features} drifted of {record.judged_features} judged" in page
    assert f"<dd>{record.rows:,} seen, {record.rows:,} checked (sample)</dd>" in page
    assert re.search(r"<dt>window</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to \d{4}-", page)
    assert record.ood is not None and f"<strong>{record.ood.rate * 100:.1f}%</strong>" in page


def test_every_drifted_feature_is_named_worst_first_with_its_chart(middle: tuple[CheckRecord, str]) -> None:
    record, page = middle
    assert record.features is not None
    drifted = [f.name for f in record.to_result().features if f.drifted]
    assert len(drifted) >= 5
    table = page[page.index("<h2>Features, worst first</h2>") : page.index("<h2>Out of distribution</h2>")]
    for name in drifted:
        assert re.search(rf'>{re.escape(name)}(?: \(prediction\))?</a>.*?<span class="badge bad">drifted', table)
        section = _section(page, name)
        e = next(f.explanation for f in record.features if f.name == name)
        if isinstance(e, NumericExplanation):
            assert section.count('<rect class="cur"') == len(e.bins.current) == 20
            assert "<th>quantile</th>" in section and "<td>p50</td>" in section
        elif isinstance(e, CategoricalExplanation):
            assert section.count('<rect class="ref"') == len(e.moved) > 0
    # the worst feature heads the table
    first = re.search(r'<a href="#feature-0">([^<]+)</a>', page)
    assert first is not None and first.group(1) in drifted


def test_a_hostile_category_is_escaped_everywhere(middle: tuple[CheckRecord, str]) -> None:
    record, page = middle
    assert "<script" not in page.lower() and "alert('x')" not in page
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;"
    channel = _section(page, "channel")
    assert f'<tr><td>{escaped}</td><td class="n">40</td></tr>' in channel  # the unseen value and its rows
    assert escaped[:20] in channel.split("<svg", 1)[1]  # the chart's label and tooltip
    assert HOSTILE not in page
    # an exemplar keeping it (its values are stored as redacted: channel is kept), and a hostile key
    hostile = Exemplar(values={"channel": HOSTILE, HOSTILE: 1}, reasons=["unseen_category"], features=["channel"])
    shown = render_report(record, [hostile])
    assert f"<tr><td>channel</td><td>{escaped}</td></tr>" in shown and f"<tr><td>{escaped}</td><td>1</td></tr>" in shown
    assert "<script" not in shown.lower()


def test_exemplars_are_shown_redacted_and_the_text_never(middle: tuple[CheckRecord, str]) -> None:
    record, page = middle
    assert MARKER not in page and "chest pain" not in page
    shown = page[page.index("<h2>Exemplars</h2>") :]
    assert shown.count('<div class="exemplar">') == min(10, record.ood_exemplars)
    assert re.search(r"<tr><td>symptoms</td><td>sha256:[0-9a-f]{16}</td></tr>", shown)
    assert "<tr><td>patient_age</td><td>" in shown


def test_the_text_block_shows_languages_and_scripts(middle: tuple[CheckRecord, str]) -> None:
    record, page = middle
    t = record.text["symptoms"]
    block = page[page.index("<h2>Text</h2>") : page.index("<h2>Feature details</h2>")]
    assert "<h3>symptoms</h3>" in block and "<h4>Languages</h4>" in block and "Latin" in block
    new = next(iter(t.new_languages))
    assert f"New languages: {new} {t.new_languages[new] * 100:.1f}%" in block
    assert f'<td>code-switching rows</td><td class="n">{t.code_switching[0] * 100:.1f}%</td>' in block


def test_previous_and_next_link_the_neighbouring_reports(stored: Stored, middle: tuple[CheckRecord, str]) -> None:
    _, page = middle
    prev, nxt = stored.ids[0], stored.ids[2]
    assert f'<a rel="prev" href="/v1/checks/{prev}/report">← previous (check {prev})</a>' in page
    assert f'<a rel="next" href="/v1/checks/{nxt}/report">next → (check {nxt})</a>' in page
    with HistoryStore(load_config(stored.config).storage_url) as store:
        assert store.neighbours(stored.ids[0]) == (None, stored.ids[1])
        assert store.neighbours(stored.ids[2]) == (stored.ids[1], None)
        assert store.neighbours(987654) is None
        last = store.get_check(stored.ids[2])
    assert last is not None
    end = render_report(last, previous_id=stored.ids[1], next_id=None)
    assert '<span class="off">next →</span>' in end and 'rel="next"' not in end


def test_the_page_fetches_nothing(middle: tuple[CheckRecord, str]) -> None:
    _, page = middle
    assert not re.search(r"\b(src|srcset)=|<link|<script|<iframe|@import|url\(", page, re.IGNORECASE)
    assert not re.search(r"https?://", page)
    assert "default-src 'none'" in page and page.count("<svg") >= 10


def test_the_cache_names_the_renderer_and_the_neighbours(tmp_path) -> None:
    cache = ReportCache(tmp_path / "reports", max_files=2)
    assert cache_name(7, 6, None) == f"7-v{RENDERER_VERSION}-p6-n0.html"
    assert cache.read(7, 6, None) is None
    first = cache.write(7, 6, None, b"one")
    assert cache.read(7, 6, None) == b"one"
    second = cache.write(7, 6, 8, b"two")  # the next check arrived: the page without it is dropped
    assert not first.exists() and second.read_bytes() == b"two"
    cache.write(8, 7, None, b"three")
    cache.write(9, 8, None, b"four")  # over max_files: the oldest goes
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [cache_name(8, 7, None), cache_name(9, 8, None)]


def test_a_verdict_set_by_missing_values_says_so(middle: tuple[CheckRecord, str]) -> None:
    record, page = middle
    result = record.to_result()
    by_missing = [
        f for f in result.features if f.missing_p_value is not None and f.p_value == min(1.0, 2 * f.missing_p_value)
    ]
    assert by_missing, "the drifted example has features with many more missing values than the reference"
    for f in by_missing:
        assert "set by the share of missing or unusable values" in _section(page, f.name)
    moved = [f for f in result.features if f.drifted and f not in by_missing and f.explanation is not None]
    assert moved and all("set by the share" not in _section(page, f.name) for f in moved)


def test_an_empty_category_is_named_not_left_blank() -> None:
    assert label("") == "(empty)" and label(None) == "(redacted)" and label("walk_in") == "walk_in"
