"""ingest.cloudevents routes are checked at config load: selectors, column names, prediction mapping."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftwatch.config import parse_config
from driftwatch.errors import ConfigError


def _config(route: str, predictions: str = "[predicted_urgency]") -> str:
    return f"""ingest:
  cloudevents:
    - {{inference_service: other, monitor: triage, output_columns: [predicted_urgency, urgency_score, score]}}
    - {route}
monitors:
  - name: triage
    reference: {{path: reference.csv}}
    prediction_columns: {predictions}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


def test_one_prediction_column_needs_no_output_columns() -> None:
    config = parse_config(_config("{model: triage-sklearn, monitor: triage}"))
    route = config.ingest.cloudevents[1]
    assert (route.inference_service, route.model, route.output_columns) == (None, "triage-sklearn", [])


def test_several_prediction_columns_need_output_columns() -> None:
    text = _config("{inference_service: triage-model, monitor: triage}", "[predicted_urgency, urgency_score]")
    assert _problems(text) == [
        "(top level): ingest.cloudevents[1] (monitor 'triage'): the monitor has 2 prediction_columns"
        " (predicted_urgency, urgency_score) and the route has no output_columns to map the model's outputs to them"
    ]
    mapped = "{inference_service: triage-model, monitor: triage, output_columns: [urgency_score, predicted_urgency]}"
    assert parse_config(_config(mapped, "[predicted_urgency, urgency_score]")).ingest.cloudevents[1].output_columns


def test_output_columns_must_name_every_prediction_column() -> None:
    text = _config("{inference_service: triage-model, monitor: triage, output_columns: [urgency]}")
    assert _problems(text) == [
        "(top level): ingest.cloudevents[1] (monitor 'triage'): output_columns does not name the monitor's"
        " prediction column(s) predicted_urgency"
    ]


def test_route_needs_a_selector_and_distinct_names() -> None:
    assert _problems(_config("{endpoint: default, monitor: triage}")) == [
        "ingest.cloudevents[1]: give 'inference_service' (KServe's ce-inferenceservicename) or 'model' (ce-modelid"
        " of MLServer and Seldon Core), or both"
    ]
    twice = "{model: m, monitor: triage, input_columns: [a, b, a]}"
    assert _problems(_config(twice)) == ["ingest.cloudevents[1]: input_columns names a more than once"]


def test_config_validate_exits_2_naming_the_route(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(_config("{inference_service: triage-model, monitor: triage}", "[predicted_urgency, score]"))
    proc = subprocess.run(
        [sys.executable, "-m", "driftwatch", "config", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "ingest.cloudevents[1] (monitor 'triage'): the monitor has 2 prediction_columns" in proc.stderr
