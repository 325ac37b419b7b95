"""Rendering for people: the decision rule stated, with its columns: p-value and level, or score and threshold."""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console

from driftwatch.checks import render

from .samples import calibrated_check, threshold_check


def _text(table: object) -> str:
    console = Console(file=io.StringIO(), width=250, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def _row(markdown: str, name: str) -> str:
    (row,) = [line for line in markdown.splitlines() if line.startswith(f"| `{name}`")]
    return row


def test_calibrated_markdown_compares_p_values_with_the_level() -> None:
    md = render.to_markdown(calibrated_check())
    lines = md.splitlines()
    assert lines[0] == "### 🔴 driftwatch: t: DATASET DRIFT: 3 of 5 features drifted (60%, threshold 50%) on 200 rows"
    assert lines[2] == (
        "Reference version `v1`. Decision: calibrated p-values (bootstrap, exact, missing_rate) against level 0.025"
        " (alpha 0.05 times this look's share 0.5); multiple testing: bh."
    )
    assert lines[4:6] == [
        "| feature | kind | method | score | p-value | level | drifted | status | quality |",
        "|---|---|---|---:|---:|---:|---|---|---|",
    ]
    assert _row(md, "a") == (
        "| `a` | numeric | wasserstein | 0.31 | 0.0004 (adj 0.0016) | 0.025 | **yes** | ok |"
        " missing 1.0% (ref 0.0%), out of range 4.0%, missing-rate p 0.12 |"
    )
    # Evidently's verdict is shown where it differs from the calibrated one.
    assert _row(md, "b") == (
        "| `b` | categorical | chisquare | 0.03 | 0.21 (adj 0.28) | 0.025 | no (threshold: yes) | ok | unseen 2.0% |"
    )
    assert _row(md, "m") == (
        "| `m` | numeric | - | - | 2e-09 (adj 1e-08) | 0.025 | **yes** | mostly_missing | missing 94.0% (ref 2.0%) |"
    )
    # No p-value, no level: a missing column and a failed test.
    assert _row(md, "c").startswith("| `c` | numeric | - | - | - | - | **yes** | missing_column |")
    assert _row(md, "x") == "| `x` | numeric | wasserstein | - | - | - | no | error | - |"
    assert _row(md, "p").startswith("| `p` (prediction) | categorical | jensenshannon | 0.02 | 0.64 (adj 0.64) |")
    # Most severe first: the features without a test, then by p-value against the level.
    order = [line.split("`")[1] for line in lines[6:]]
    assert order == ["c", "m", "a", "b", "p", "x"]


def test_threshold_markdown_compares_scores_with_thresholds_as_before() -> None:
    md = render.to_markdown(threshold_check())
    lines = md.splitlines()
    assert lines[2] == (
        "Reference version `v1`. Decision: each test's score against its threshold; multiple testing: none."
    )
    assert lines[4] == "| feature | kind | method | score | threshold | drifted | status | quality |"
    assert _row(md, "k") == "| `k` | numeric | ks | 0.01 | 0.05 | **yes** | ok | - |"
    assert _row(md, "a") == "| `a` | numeric | wasserstein | 0.31 | 0.1 | **yes** | ok | out of range 4.0% |"
    adjusted = replace(
        threshold_check(), features=[replace(f, adjusted_p_value=0.03) for f in threshold_check().features]
    )
    assert "| ks | 0.01 (adj 0.03) | 0.05 |" in render.to_markdown(adjusted)


def test_a_single_look_states_the_level_alone() -> None:
    result = replace(calibrated_check(), look_share=1.0, level=0.05)
    assert render.decision_line(result) == (
        "Decision: calibrated p-values (bootstrap, exact, missing_rate) against level 0.05; multiple testing: bh."
    )


def test_the_table_has_the_decision_columns_and_states_the_rule() -> None:
    text = _text(render.to_table(calibrated_check()))
    header = next(line for line in text.splitlines() if line.startswith("┃"))
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "feature",
        "kind",
        "method",
        "score",
        "p-value",
        "level",
        "drifted",
        "status",
        "quality",
    ]
    (b,) = [line for line in text.splitlines() if line.startswith("│ b ")]
    assert "0.21 (adj 0.28)" in b and "no (threshold: yes)" in b
    assert text.rstrip().splitlines()[-1].strip() == render.decision_line(calibrated_check())
    threshold = _text(render.to_table(threshold_check()))
    header = next(line for line in threshold.splitlines() if line.startswith("┃"))
    assert "threshold" in header and "p-value" not in header and "level" not in header
    assert "Decision: each test's score against its threshold; multiple testing: none." in threshold
