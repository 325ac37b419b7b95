"""The pages' building blocks: escaping of every value, and the time range a query asks for."""

from __future__ import annotations

import pytest

from driftwatch.ui.html import Html, el, join, number, percent, when
from driftwatch.ui.timerange import DEFAULT_SPAN_MS, RangeError, TimeRange, parse_range

NOW = 1_714_586_400_000


def test_values_are_escaped_and_markup_is_not() -> None:
    assert el("td", "<b>&\"'", title='"><script>') == (
        '<td title="&quot;&gt;&lt;script&gt;">&lt;b&gt;&amp;&quot;&#x27;</td>'
    )
    assert el("p", Html("<br>"), [1, None, ["x<"]], class_="a b") == '<p class="a b"><br>1x&lt;</p>'
    assert el("a", "x", href="/u?a=1&b=2", data_check=3, hidden=True, rel=None) == (
        '<a href="/u?a=1&amp;b=2" data-check="3" hidden>x</a>'
    )
    assert el("circle", cx=1) == '<circle cx="1"/>' and el("br") == "<br>"
    assert join(["<", Html("<i>")]) == "&lt;<i>"


def test_formats() -> None:
    assert when(1714586400.0) == "2024-05-01 18:00:00Z" and when(None) == "-" and when(float("nan")) == "-"
    assert percent(0.4567) == "45.7%" and percent(None) == "-" and percent(1.0, 0) == "100%"
    assert number(0.000123456) == "0.000123" and number(float("inf")) == "inf" and number(None) == "-"


@pytest.mark.parametrize(
    ("from_", "to", "expected"),
    [
        (None, None, TimeRange(NOW - DEFAULT_SPAN_MS, NOW)),
        ("1000", "2000", TimeRange(1000, 2000)),
        (None, "5000", TimeRange(0, 5000)),
        ("1000", None, TimeRange(1000, NOW)),
        (str(NOW + 10), None, TimeRange(NOW + 10, NOW + 10 + DEFAULT_SPAN_MS)),
        ("", " 2000 ", TimeRange(0, 2000)),
    ],
)
def test_ranges(from_: str | None, to: str | None, expected: TimeRange) -> None:
    assert parse_range(from_, to, NOW) == expected


@pytest.mark.parametrize(
    ("from_", "to", "message"),
    [
        ("now-6h", None, "'from' must be milliseconds since the epoch, a whole number such as Grafana's ${__from}"),
        (None, "1e12", "'to' must be milliseconds since the epoch, a whole number such as Grafana's ${__to}"),
        ("-1", None, "'from' must be between 0 and 253402300799999 milliseconds since the epoch"),
        (None, "99999999999999999", "'to' must be milliseconds since the epoch"),
        ("2000", "2000", "'from' must be before 'to'"),
    ],
)
def test_bad_ranges_name_the_parameter(from_: str | None, to: str | None, message: str) -> None:
    with pytest.raises(RangeError) as info:
        parse_range(from_, to, NOW)
    assert str(info.value).startswith(message)


def test_shifted_ranges_keep_their_length_within_valid_times() -> None:
    span = TimeRange(10_000, 20_000)
    assert span.shifted(-1) == TimeRange(0, 10_000) and span.shifted(1) == TimeRange(20_000, 30_000)
    assert span.shifted(-5) == TimeRange(0, 10_000)


def test_a_range_ending_at_0_names_to_when_from_was_not_given() -> None:
    with pytest.raises(RangeError, match=r"^'to' must be after 0, where the range starts at the earliest$"):
        parse_range(None, "0", 10**12)
    with pytest.raises(RangeError, match=r"^'from' must be before 'to'$"):
        parse_range("5", "5", 10**12)
