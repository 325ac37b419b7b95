"""Write deploy/kubernetes/prometheusrule.yaml: the Prometheus Operator's copy of the driftwatch alert rules.

The rules live in deploy/prometheus/rules/driftwatch.rules.yml (plain Prometheus, used by docker compose); the
PrometheusRule wraps that file's groups unchanged, so both deployments alert alike. Run after editing the rules:

    python deploy/kubernetes/generate_prometheusrule.py            # rewrite prometheusrule.yaml
    python deploy/kubernetes/generate_prometheusrule.py --check    # exit 1 if it is out of date (CI)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "driftwatch.rules.yml"
OUTPUT = HERE / "prometheusrule.yaml"
NAME = "driftwatch"
REGENERATE = "python deploy/kubernetes/generate_prometheusrule.py"


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists, like the rules file, so the two read alike."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line PromQL as a literal block, long annotations folded: both as they are written in the rules file.
    style = "|" if "\n" in value else (">" if len(value) > 80 and " " in value else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def load_groups(rules_path: Path) -> list[Any]:
    """The `groups` of a Prometheus rules file; a ValueError names the file when it has none."""
    doc = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
    groups = doc.get("groups") if isinstance(doc, dict) else None
    if not isinstance(groups, list) or not groups:
        raise ValueError(f"{rules_path}: expected a Prometheus rules file with a non-empty 'groups' list")
    return groups


def build(groups: list[Any]) -> dict[str, Any]:
    """The PrometheusRule object holding `groups` verbatim."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": NAME,
            "labels": {"app.kubernetes.io/name": "driftwatch", "role": "alert-rules"},
        },
        "spec": {"groups": groups},
    }


def render(rules_path: Path = RULES) -> str:
    """The text of prometheusrule.yaml for the rules file at `rules_path`."""
    try:
        source = rules_path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        source = rules_path.as_posix()
    header = (
        f"# Generated from {source}; do not edit.\n"
        f"# Regenerate with: {REGENERATE}\n"
        "# Needs the Prometheus Operator (CRD monitoring.coreos.com/v1). kube-prometheus-stack only loads\n"
        "# PrometheusRules matching its ruleSelector (by default the label release: <its release name>).\n"
    )
    body = yaml.dump(
        build(load_groups(rules_path)),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=120,
    )
    return header + body


def out_of_date(rules_path: Path = RULES, output_path: Path = OUTPUT) -> str | None:
    """Why `output_path` differs from what `rules_path` generates, or None when it is up to date."""
    expected = render(rules_path)
    try:
        actual = output_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{output_path} does not exist; run {REGENERATE}"
    if actual != expected:
        return f"{output_path} is out of date with {rules_path}; run {REGENERATE}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=RULES, help="Prometheus rules file to read.")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="PrometheusRule manifest to write or check.")
    parser.add_argument("--check", action="store_true", help="Write nothing; exit 1 if --output is out of date.")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problem = out_of_date(args.rules, args.output)
            if problem:
                print(problem, file=sys.stderr)
                return 1
            print(f"{args.output} is up to date")
            return 0
        args.output.write_text(render(args.rules), encoding="utf-8")
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
