"""deploy/kubernetes/prometheusrule.yaml is generated from the Prometheus rules file and kept in step with it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .helpers import KUBERNETES, RULES, load_module

GENERATOR = KUBERNETES / "generate_prometheusrule.py"


@pytest.fixture(scope="module")
def generator():
    return load_module(GENERATOR)


def test_committed_prometheusrule_is_in_sync_with_the_rules_file(generator) -> None:
    problem = generator.out_of_date(RULES, KUBERNETES / "prometheusrule.yaml")
    assert problem is None, problem


def test_groups_are_the_rules_files_groups_verbatim(generator) -> None:
    rule = yaml.safe_load((KUBERNETES / "prometheusrule.yaml").read_text())
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["name"] == "driftwatch"
    assert rule["spec"] == {"groups": yaml.safe_load(RULES.read_text())["groups"]}


def test_check_exits_1_when_the_output_differs(generator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "prometheusrule.yaml"
    assert generator.main(["--rules", str(RULES), "--output", str(output)]) == 0
    assert generator.main(["--rules", str(RULES), "--output", str(output), "--check"]) == 0
    output.write_text(output.read_text().replace("for: 5m", "for: 6m", 1))
    assert generator.main(["--rules", str(RULES), "--output", str(output), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    output.unlink()
    assert generator.main(["--rules", str(RULES), "--output", str(output), "--check"]) == 1


def test_a_file_without_groups_is_an_error(generator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "empty.rules.yml"
    rules.write_text("groups: []\n")
    assert generator.main(["--rules", str(rules), "--output", str(tmp_path / "out.yaml")]) == 2
    assert f"{rules}: expected a Prometheus rules file with a non-empty 'groups' list" in capsys.readouterr().err
    assert not (tmp_path / "out.yaml").exists()
