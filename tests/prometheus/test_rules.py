"""The shipped alert rules: valid for promtool, unit-tested, documented in the runbook and the metrics contract."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from services import binaries

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "driftwatch.rules.yml"
RULE_TESTS = sorted(Path(__file__).parent.glob("*.test.yml"))
RUNBOOK = ROOT / "docs" / "runbook.md"
METRICS_DOC = ROOT / "docs" / "metrics.md"
RUNBOOK_URL = "https://github.com/driftwatch/driftwatch/blob/main/docs/runbook.md#"
METRIC_NAME = re.compile(r"\bdriftwatch_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binaries.promtool(), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces turned into hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _runbook_anchors() -> set[str]:
    anchors: set[str] = set()
    seen: Counter[str] = Counter()
    fenced = False
    for line in RUNBOOK.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"#{1,6} (.+)", line)
        if match:
            anchor = github_anchor(match.group(1))
            anchors.add(f"{anchor}-{seen[anchor]}" if seen[anchor] else anchor)  # GitHub numbers repeats
            seen[anchor] += 1
    return anchors


def test_promtool_check_rules() -> None:
    result = _promtool("check", "rules", str(RULES.relative_to(ROOT)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests() -> None:
    assert RULE_TESTS, "no tests/prometheus/*.test.yml"
    result = _promtool("test", "rules", *(str(p.relative_to(ROOT)) for p in RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {rule["alert"] for rule in _alerts()}
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet"


@pytest.mark.parametrize("rule", _alerts(), ids=lambda rule: rule["alert"])
def test_alert_has_for_severity_and_annotations(rule: dict[str, Any]) -> None:
    assert rule.get("for"), "no for:"
    assert rule.get("labels", {}).get("severity") in ("critical", "warning")
    annotations = rule.get("annotations", {})
    for key in ("summary", "description", "runbook_url"):
        assert annotations.get(key), f"no {key} annotation"
    assert annotations["runbook_url"].startswith(RUNBOOK_URL)


def test_runbook_has_a_section_per_alert() -> None:
    anchors = _runbook_anchors()
    urls = [rule["annotations"]["runbook_url"] for rule in _alerts()]
    missing = [url for url in urls if url.removeprefix(RUNBOOK_URL) not in anchors]
    assert missing == [], f"no heading in {RUNBOOK.relative_to(ROOT)} for these anchors"
    assert len(set(urls)) == len(urls), "two alerts share a runbook section"


def test_runbook_links_within_itself_resolve() -> None:
    links = set(re.findall(r"\]\(#([^)]+)\)", RUNBOOK.read_text()))
    assert links, "no links within the runbook"
    assert sorted(links - _runbook_anchors()) == []


def _undocumented(names: set[str]) -> list[str]:
    documented = set(re.findall(r"`(driftwatch_[a-z0-9_]+)`", METRICS_DOC.read_text()))

    def known(name: str) -> bool:
        return name in documented or any(
            name.endswith(s) and name.removesuffix(s) in documented for s in HISTOGRAM_SUFFIXES
        )

    return sorted(name for name in names if not known(name))


def test_rules_use_only_documented_metrics() -> None:
    used: set[str] = set()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            # Annotations count too: templates query series (the feature's score and threshold).
            for text in (rule["expr"], *rule.get("annotations", {}).values()):
                used.update(METRIC_NAME.findall(text))
    assert used, "no metric names found in the rules"
    assert _undocumented(used) == []


def test_runbook_names_only_documented_metrics() -> None:
    assert _undocumented(set(METRIC_NAME.findall(RUNBOOK.read_text()))) == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("DriftwatchCheckStale", "driftwatchcheckstale"),
        ("Real drift or a pipeline bug?", "real-drift-or-a-pipeline-bug"),
        ("`driftwatch check` on a saved window", "driftwatch-check-on-a-saved-window"),
    ],
)
def test_github_anchor(heading: str, anchor: str) -> None:
    assert github_anchor(heading) == anchor
