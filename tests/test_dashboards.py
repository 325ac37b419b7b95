"""The Grafana dashboards: generated JSON is committed and current, well formed, and uses documented metrics."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftwatch.dashboards import DASHBOARDS, main, metric_names, promql_expressions, render_all, stale, substitute

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_DIR = ROOT / "dashboards"
EXPECTED = {
    "driftwatch-overview": "driftwatch overview",
    "driftwatch-monitor": "driftwatch monitor",
    "driftwatch-health": "driftwatch health",
}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
VARIABLES = {
    "datasource": "prometheus",
    "daemon_url": "http://127.0.0.1:8321",
    "monitor": "triage",
    "feature": "patient_age",
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "5m",
}
# Series driftwatch does not export but the dashboards read: alerts and scrape health, from Prometheus itself.
PROMETHEUS_SERIES = {"ALERTS", "up", "scrape_duration_seconds"}
PAGE_URL = "${daemon_url}/ui/monitors/${monitor}?from=${__from}&to=${__to}"
CHECKS_URL = "${daemon_url}/v1/monitors/${monitor}/checks?since=${__from:date:seconds}&until=${__to:date:seconds}"


def _load(uid: str) -> dict[str, Any]:
    return json.loads((DASHBOARD_DIR / f"{uid}.json").read_text())


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel except rows, nested ones included."""
    out = []
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            out.append(panel)
        out.extend(p for p in panel.get("panels", []) if p["type"] != "row")
    return out


def _variables(dashboard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


def _documented_metrics() -> set[str]:
    """Metric names in docs/metrics.md's tables, with a histogram's _bucket, _sum and _count series."""
    names = set()
    for line in (ROOT / "docs" / "metrics.md").read_text().splitlines():
        match = re.match(r"\|\s*`(driftwatch_\w+)`\s*\|\s*(\w+)\s*\|", line)
        if match:
            name, kind = match.groups()
            names.add(name)
            if kind == "histogram":
                names.update(f"{name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
    return names


def test_committed_json_is_what_the_generator_writes() -> None:
    assert sorted(p.name for p in DASHBOARD_DIR.glob("*.json")) == sorted(render_all())
    assert stale(DASHBOARD_DIR) == [], "out of date: run `python -m driftwatch.dashboards`"


def test_check_mode_lists_differing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dir", str(tmp_path)]) == 0
    assert main(["--dir", str(tmp_path), "--check"]) == 0
    (tmp_path / "driftwatch-health.json").write_text("{}\n")
    (tmp_path / "driftwatch-monitor.json").unlink()
    assert main(["--dir", str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert "driftwatch-health.json is out of date" in err
    assert "driftwatch-monitor.json is out of date" in err
    assert "driftwatch-overview.json" not in err


def test_json_is_stable() -> None:
    text = render_all()["driftwatch-monitor.json"]
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert render_all() == render_all()


@pytest.mark.parametrize("uid", sorted(EXPECTED))
def test_dashboard_identity_and_variables(uid: str) -> None:
    dashboard = _load(uid)
    assert dashboard["uid"] == uid
    assert dashboard["title"] == EXPECTED[uid]
    assert "driftwatch" in dashboard["tags"]
    variables = _variables(dashboard)
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["daemon_url"]["type"] in ("textbox", "constant")
    assert variables["daemon_url"]["query"] == "http://localhost:8321"


@pytest.mark.parametrize("uid", sorted(EXPECTED))
def test_every_panel_queries_the_datasource_variable(uid: str) -> None:
    dashboard = _load(uid)
    panels = _panels(dashboard)
    assert len(panels) >= 8
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], f"{panel['title']}: no target"
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["expr"].strip(), panel["title"]
            assert re.fullmatch(r"[A-Z]", target["refId"]), panel["title"]
        assert panel.get("description"), f"{panel['title']}: no description"
    for variable in _variables(dashboard).values():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE


@pytest.mark.parametrize("uid", sorted(EXPECTED))
def test_panels_fit_the_grid_without_overlapping(uid: str) -> None:
    taken: dict[tuple[int, int], str] = {}
    for panel in _load(uid)["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


@pytest.mark.parametrize("uid", sorted(EXPECTED))
def test_table_columns_are_ordered_by_their_original_names(uid: str) -> None:
    for panel in _panels(_load(uid)):
        for step in panel.get("transformations", []):
            if step["id"] == "organize":
                renamed = set(step["options"]["renameByName"].values())
                assert not renamed & set(step["options"]["indexByName"]), panel["title"]


def test_monitor_dashboard_variables() -> None:
    variables = _variables(_load("driftwatch-monitor"))
    assert variables["monitor"]["query"] == "label_values(driftwatch_window_rows, monitor)"
    feature = variables["feature"]
    # Every exported feature has a status series, a feature whose column vanished (no score) included.
    assert feature["query"] == 'label_values(driftwatch_feature_status{monitor="$monitor"}, feature)'
    assert feature["multi"] is True
    assert feature["includeAll"] is True


def test_monitor_dashboard_queries_are_scoped_to_the_monitor_and_features() -> None:
    for panel in _panels(_load("driftwatch-monitor")):
        for target in panel["targets"]:
            expr = target["expr"]
            assert 'monitor="$monitor"' in expr, f"{panel['title']}: {expr}"
            if "driftwatch_feature_" in expr:
                assert 'feature=~"$feature"' in expr, f"{panel['title']}: {expr}"


def test_monitor_panels_link_to_the_daemons_checks() -> None:
    panels = _panels(_load("driftwatch-monitor"))
    feature_panels = [p for p in panels if any("driftwatch_feature_" in t["expr"] for t in p["targets"])]
    assert len(feature_panels) >= 8
    for panel in feature_panels:
        urls = [link["url"] for link in panel["fieldConfig"]["defaults"].get("links", [])]
        assert CHECKS_URL in urls, panel["title"]
        if panel["type"] == "table":
            assert "/v1/checks/{id}" in panel["description"]


def _link_urls(panel: dict[str, Any]) -> list[str]:
    return [link["url"] for link in panel["fieldConfig"]["defaults"].get("links", [])]


@pytest.mark.parametrize(
    ("uid", "monitor", "titles"),
    [
        (
            "driftwatch-monitor",
            "${monitor}",
            ["Dataset drift", "Drifted features", "Drift severity by feature", "OOD rate", "OOD rate by reason"],
        ),
        (
            "driftwatch-overview",
            "${__field.labels.monitor}",
            ["Dataset drift", "Dataset drift over time", "Drifted features share", "OOD rate"],
        ),
        ("driftwatch-overview", "${__data.fields.monitor}", ["Monitors"]),
    ],
)
def test_drift_and_ood_panels_open_the_monitor_page_first(uid: str, monitor: str, titles: list[str]) -> None:
    """One click from a drift or OOD panel to the daemon's page of that monitor over the dashboard's time range."""
    panels = {p["title"]: p for p in _panels(_load(uid))}
    for title in titles:
        links = panels[title]["fieldConfig"]["defaults"]["links"]
        assert links[0]["url"] == PAGE_URL.replace("${monitor}", monitor), title
        assert links[0]["title"] == "Checks of this time range (daemon page)" and links[0]["targetBlank"] is True


def test_the_page_link_passes_grafanas_time_range_in_milliseconds() -> None:
    # ${__from} and ${__to} are epoch milliseconds in Grafana, which the page's `from` and `to` expect.
    url = substitute(PAGE_URL, {**VARIABLES, "__from": "1714564800000", "__to": "1714586400000"})
    assert url == "http://127.0.0.1:8321/ui/monitors/triage?from=1714564800000&to=1714586400000"


def test_ood_panels_query_the_exported_series() -> None:
    monitor = {p["title"]: [t["expr"] for t in p["targets"]] for p in _panels(_load("driftwatch-monitor"))}
    assert monitor["OOD rate"] == ['max(driftwatch_ood_ratio{monitor="$monitor"})']
    assert monitor["OOD rate by reason"] == [
        'max by (reason) (driftwatch_ood_reason_ratio{monitor="$monitor"})',
        'max(driftwatch_ood_ratio{monitor="$monitor"})',
    ]
    assert monitor["OOD share by feature"] == [
        'max by (feature) (driftwatch_feature_ood_ratio{monitor="$monitor", feature=~"$feature"})'
    ]
    assert monitor["OOD reasons"] == ['max by (reason) (driftwatch_ood_reason_enabled{monitor="$monitor"})']
    overview = {p["title"]: [t["expr"] for t in p["targets"]] for p in _panels(_load("driftwatch-overview"))}
    assert overview["OOD rate"] == ["max by (monitor) (driftwatch_ood_ratio)"]
    assert "max by (monitor) (driftwatch_ood_ratio)" in overview["Monitors"]


def test_overview_links_carry_the_clicked_monitor() -> None:
    panels = {p["title"]: p for p in _panels(_load("driftwatch-overview"))}
    table_urls = [link["url"] for link in panels["Monitors"]["fieldConfig"]["defaults"]["links"]]
    assert CHECKS_URL.replace("${monitor}", "${__data.fields.monitor}") in table_urls
    assert any(url.startswith("/d/driftwatch-monitor/") for url in table_urls)
    series_urls = [link["url"] for link in panels["Dataset drift"]["fieldConfig"]["defaults"]["links"]]
    assert CHECKS_URL.replace("${monitor}", "${__field.labels.monitor}") in series_urls


def test_promql_expressions_cover_targets_and_variables() -> None:
    dashboard = _load("driftwatch-monitor")
    exprs = promql_expressions(dashboard, VARIABLES)
    assert all(isinstance(e, str) and e for e in exprs)
    assert len(exprs) == len(set(exprs))
    # Variable queries come first, label_values(...) unwrapped to its selector.
    assert exprs[:2] == ["driftwatch_window_rows", 'driftwatch_feature_status{monitor="triage"}']
    targets = {t["expr"] for p in _panels(dashboard) for t in p["targets"]}
    assert len(exprs) == 2 + len(targets)
    for expr in exprs:
        assert "$" not in expr and "[[" not in expr, expr
    assert 'max by (feature) (driftwatch_feature_drifted{monitor="triage", feature=~"patient_age"})' in exprs
    assert any("[1m]" in e for e in exprs)


def test_promql_expressions_of_every_dashboard() -> None:
    for uid in EXPECTED:
        exprs = promql_expressions(_load(uid), VARIABLES)
        assert len(exprs) >= 10, uid


def test_promql_expressions_need_every_variable() -> None:
    with pytest.raises(KeyError, match="'__rate_interval'"):
        promql_expressions(_load("driftwatch-health"), {"datasource": "prometheus"})


def test_substitute_forms() -> None:
    values = {"monitor": "triage", "__rate_interval": "1m"}
    assert substitute('x{monitor="$monitor"}[$__rate_interval]', values) == 'x{monitor="triage"}[1m]'
    assert substitute("${monitor}/${monitor:raw}/[[monitor]]", values) == "triage/triage/triage"


def test_promql_expressions_of_nested_and_object_queries() -> None:
    dashboard = {
        "templating": {
            "list": [
                {"type": "query", "query": {"query": 'label_values(up{job="$job"}, instance)', "refId": "X"}},
                {"type": "query", "query": "query_result(topk(3, up))"},
                {"type": "query", "query": "label_names()"},
                {"type": "custom", "query": "a,b"},
            ]
        },
        "panels": [{"type": "row", "panels": [{"type": "stat", "targets": [{"expr": "sum(up)"}, {"expr": ""}]}]}],
    }
    assert promql_expressions(dashboard, {"job": "driftwatch"}) == [
        'up{job="driftwatch"}',
        "topk(3, up)",
        "sum(up)",
    ]


def test_metric_names_parsing() -> None:
    expr = (
        'histogram_quantile(0.9, sum by (monitor, le) (rate(driftwatch_check_duration_seconds_bucket{job="x"}[1m])))'
        " / on (monitor) group_left max without (instance) (driftwatch_up offset 5m)"
        ' or count(ALERTS{alertname=~"Driftwatch.*"}) or vector(1e-300) and time() - foo:bar'
    )
    assert metric_names(expr) == {"driftwatch_check_duration_seconds_bucket", "driftwatch_up", "ALERTS", "foo:bar"}


def test_every_metric_is_documented() -> None:
    documented = _documented_metrics()
    assert "driftwatch_check_duration_seconds_bucket" in documented
    used: set[str] = set()
    for uid in EXPECTED:
        for expr in promql_expressions(_load(uid), VARIABLES):
            used |= metric_names(expr)
    assert used - documented - PROMETHEUS_SERIES == set()
    # The dashboards read most of what the daemon documents.
    assert len(used & documented) >= 30


def test_every_expression_parses(tmp_path: Path) -> None:
    """promtool parses each expression as a recording rule: a syntax error names the expression."""
    rules = [
        {"record": f"dashboard:expr_{i}", "expr": expr}
        for i, expr in enumerate(e for uid in EXPECTED for e in promql_expressions(_load(uid), VARIABLES))
    ]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generator_builds_every_expected_dashboard() -> None:
    assert sorted(DASHBOARDS) == sorted(EXPECTED)
