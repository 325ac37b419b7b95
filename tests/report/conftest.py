"""A drifted check of the triage example, with a hostile category value and marked text, stored three times."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pytest

from driftwatch.config import load_config
from driftwatch.monitor import load_monitor
from driftwatch.reference import readers
from driftwatch.storage import HistoryStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "triage"
HOSTILE = "<script>alert('x')</script>&\""
MARKER = "QZV-4410-TRANSCRIPT"


@dataclass(frozen=True)
class Stored:
    """The config whose history holds the checks, their ids in start order, and the rows they were run on."""

    config: Path
    ids: list[int]
    current: Path


def hostile_batch(rows: pa.Table, odd: int = 40) -> pa.Table:
    """The drifted example batch with its first `odd` rows on a hostile channel, their symptoms carrying MARKER."""
    out = rows.to_pylist()
    for i, row in enumerate(out[:odd]):
        row["channel"] = HOSTILE
        row["symptoms"] = f"Patient says {MARKER} number {i}, chest pain since dawn."
    return pa.Table.from_pylist(out)


@pytest.fixture(scope="session")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    folder = tmp_path_factory.mktemp("report")
    text = (ROOT / "config.example.yaml").read_text()
    text = text.replace("path: examples/triage/reference.csv", f"path: {EXAMPLES / 'reference.csv'}")
    text = text.replace("${DRIFTWATCH_DATA_DIR:-./data}", str(folder / "data"))
    config = folder / "config.yaml"
    config.write_text(text)
    current = folder / "current.parquet"
    readers.write_file(hostile_batch(readers.read_path(EXAMPLES / "batch_drifted.csv")), current)
    monitor = load_monitor(config)
    result = monitor.check(current)
    assert result.dataset_drift and result.ood is not None and result.ood.exemplars
    with HistoryStore(load_config(config).storage_url) as store:
        store.upgrade()
        store.record_reference(monitor.profile)
        ids = [
            store.record_check(
                replace(result, started_at=result.started_at + i * 60),
                window_start=result.started_at + i * 60 - 300,
                window_end=result.started_at + i * 60,
                trigger="manual",
            )
            for i in range(3)
        ]
    return Stored(config, ids, current)
