"""Shared fixtures: repository paths and the example config."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "triage"


@pytest.fixture
def example_config(tmp_path: Path) -> Path:
    """config.example.yaml rewritten to keep its data_dir under tmp_path."""
    text = (ROOT / "config.example.yaml").read_text()
    text = text.replace("path: examples/triage/reference.csv", f"path: {EXAMPLES / 'reference.csv'}")
    text = text.replace("${DRIFTWATCH_DATA_DIR:-./data}", str(tmp_path / "data"))
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path
