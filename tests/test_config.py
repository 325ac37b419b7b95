"""Config parsing: the minimal form, interpolation, path resolution and exact error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftwatch.checks.stattests.catalog import names_for
from driftwatch.config import ReferenceSpec, load_config, parse_config, parse_duration
from driftwatch.errors import ConfigError, UnknownMonitorError
from driftwatch.types import Kind

MINIMAL = """
monitors:
  - name: loans
    reference: {path: reference.csv}
    features:
      car_value: numeric
      salary_range: categorical
      notes: {kind: text}
      income: {kind: numeric, method: ks, threshold: 0.01}
"""


def _problems(text: str, **kw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, **kw)
    return info.value.problems


def test_minimal_config_is_valid_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.yaml"
    path.parent.mkdir()
    path.write_text(MINIMAL)
    cfg = load_config(path)
    m = cfg.monitor("loans")
    assert m.features["car_value"].kind == Kind.NUMERIC
    assert m.features["notes"].kind == Kind.TEXT
    assert m.features["income"].method == "ks"
    assert m.features["income"].threshold == 0.01
    assert m.reference.path == str(path.parent / "reference.csv")
    assert cfg.data_dir == path.parent / "data"
    assert cfg.storage_url == f"sqlite:///{(path.parent / 'data' / 'driftwatch.db').as_posix()}"
    assert m.drift.min_rows == 100 and m.drift.drift_share == 0.5


def test_unknown_stat_test_names_the_valid_ones() -> None:
    text = MINIMAL.replace("method: ks", "method: kss")
    assert _problems(text) == [
        f"monitors[0].features.income.method: unknown stat test 'kss' (valid: {', '.join(names_for())})"
    ]


def test_stat_test_must_fit_the_kind() -> None:
    text = MINIMAL.replace("salary_range: categorical", "salary_range: {kind: categorical, method: wasserstein}")
    assert _problems(text) == [
        "monitors[0].features.salary_range.method: stat test 'wasserstein' does not apply to categorical "
        f"features (valid for categorical: {', '.join(names_for(Kind.CATEGORICAL))})"
    ]


def test_unknown_keys_are_errors_listing_valid_keys() -> None:
    text = MINIMAL + "    windw: {type: tumbling}\n"
    assert _problems(text) == [
        "monitors[0].windw: unknown key 'windw' (valid: name, reference, features, ignore, prediction_columns, "
        "drift, window, schedule, file_source, ood, text, max_exported_features)"
    ]


def test_every_problem_is_reported_at_once() -> None:
    text = MINIMAL.replace("car_value: numeric", "car_value: numerik").replace("threshold: 0.01", "threshold: -1")
    problems = _problems(text)
    assert problems == [
        "monitors[0].features.car_value.kind: Input should be 'numeric', 'categorical' or 'text', got 'numerik'",
        "monitors[0].features.income.threshold: Input should be greater than 0",
    ]


def test_missing_and_empty_sections() -> None:
    assert _problems("data_dir: x\n") == ["monitors: required key is missing"]
    assert _problems("monitors: []\n") == ["monitors: List should have at least 1 item after validation, not 0"]
    assert _problems("- a\n") == ["the file must hold a mapping with at least 'monitors'"]
    assert _problems("monitors: [\n")[0].startswith("not valid YAML:")


def test_reference_needs_exactly_one_source() -> None:
    text = MINIMAL.replace("reference: {path: reference.csv}", "reference: {}")
    assert _problems(text) == [
        "monitors[0].reference: give exactly one of 'path' (file, glob or folder) or 'query' (SQL, with 'url')"
    ]


def test_reference_watch_settings() -> None:
    def reference(extra: str) -> ReferenceSpec:
        return parse_config(f"monitors: [{{name: m, reference: {{path: r.csv{extra}}}}}]").monitors[0].reference

    default = reference("")
    assert (default.watch_interval, default.auto_reload) == (30.0, False)
    assert reference(", watch_interval: 5m, auto_reload: true").watch_interval == 300.0
    assert reference(", watch_interval: null").watch_interval is None
    with pytest.raises(ConfigError) as info:
        reference(", watch_interval: 0s")
    assert info.value.problems == ["monitors[0].reference.watch_interval: duration must be positive, got '0s'"]


def test_duplicate_monitor_names() -> None:
    text = MINIMAL + MINIMAL.split("monitors:\n")[1]
    assert _problems(text) == ["(top level): monitor name 'loans' is used twice"]


def test_env_interpolation() -> None:
    text = MINIMAL + "storage: {url: '${DB_URL}'}\ndata_dir: ${DATA:-/var/lib/dw}\n"
    cfg = parse_config(text, environ={"DB_URL": "postgresql+psycopg://u@h/db"})
    assert cfg.storage_url == "postgresql+psycopg://u@h/db"
    assert cfg.data_dir == Path("/var/lib/dw")
    assert _problems(text, environ={}) == [
        "storage.url: environment variable DB_URL is not set (set it, or write ${DB_URL:-default})"
    ]


def test_durations() -> None:
    assert parse_duration("15m") == 900.0
    assert parse_duration("90s") == 90.0
    assert parse_duration(2) == 2.0
    with pytest.raises(ValueError, match="invalid duration 'soon'"):
        parse_duration("soon")
    text = MINIMAL + "    schedule: {interval: 0}\n"
    assert _problems(text) == ["monitors[0].schedule.interval: duration must be positive, got 0"]


def test_unknown_monitor_lists_configured() -> None:
    cfg = parse_config(MINIMAL)
    with pytest.raises(UnknownMonitorError) as info:
        cfg.monitor("nope")
    assert str(info.value) == "unknown monitor 'nope' (valid: loans)"


def test_missing_file() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("/nonexistent/driftwatch.yaml")
    assert info.value.problems == ["cannot read file: No such file or directory"]


def test_example_config_is_valid() -> None:
    cfg = load_config(Path(__file__).resolve().parents[1] / "config.example.yaml")
    assert [m.name for m in cfg.monitors] == ["triage"]
    assert cfg.storage.url is None


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_infinity_are_named_as_such(value: str) -> None:
    text = MINIMAL.replace("threshold: 0.01", f"threshold: {value}")
    assert _problems(text) == ["monitors[0].features.income.threshold: Input should be a finite number"]


def test_redaction_of_a_column_that_is_not_a_feature_is_an_error() -> None:
    text = MINIMAL + "    ood: {redact: {notse: drop, notes: hash}}\n"
    assert _problems(text) == [
        "monitors[0]: ood.redact names notse, not a feature of this monitor "
        "(features: car_value, salary_range, notes, income)"
    ]
    inferred = MINIMAL.split("    features:")[0] + "    ignore: [id]\n    ood: {redact: {id: drop, notes: hash}}\n"
    assert _problems(inferred) == [
        "monitors[0]: ood.redact names id, not a feature of this monitor "
        "(features: every reference column not in ignore)"
    ]
    parse_config(MINIMAL + "    ood: {redact: {notes: hash, car_value: drop}}\n")
