"""The per-value OOD rules counted on every ingested row: exact, equal to the check's own rules on the same rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from driftwatch import demo
from driftwatch.config import MonitorConfig, OodSettings
from driftwatch.live.monitor import LiveMonitor
from driftwatch.live.rowbatch import ANY_RULE, RULE_COLUMNS, RowShaper
from driftwatch.ood.reasons import RULES
from driftwatch.ood.score import OodModel
from driftwatch.reference.profile import build_profile

FEATURES = {"patient_age": "numeric", "heart_rate": "numeric", "channel": "categorical", "insurance": "categorical"}
RULES_ONLY = {"reasons": {"novel": {"enabled": False}}}
T0 = 1_800_000_000.0


def _monitor(**ood: object) -> MonitorConfig:
    window = {"type": "tumbling", "duration": "10m", "max_sample_rows": 200}
    return MonitorConfig(name="r", reference={"path": "unused"}, features=FEATURES, window=window, ood=ood)


@pytest.fixture(scope="module")
def profile():
    return build_profile(demo.reference_table(3000, seed=1), _monitor(), "v1", "memory")


def _messy(rows: int, seed: int) -> pa.Table:
    """Drifted example rows with every rule's case mixed in: unreadable, missing, unseen and extreme values."""
    rng = np.random.default_rng(seed)
    base = demo.production_batch(rows, 0.8, seed=seed).select(list(FEATURES)).to_pylist()
    for row in base:
        u = rng.random()
        if u < 0.03:
            row["patient_age"] = "unknown"
        elif u < 0.06:
            row["heart_rate"] = None
        elif u < 0.09:
            row["channel"] = "fax"
        elif u < 0.12:
            row["patient_age"] = float(rng.choice([-5.0, 400.0, np.inf]))
        elif u < 0.14:
            row.pop("insurance")
    for row in base:  # ages arrive as text, as a form sends them: "unknown" is the one a number cannot be read from
        row["patient_age"] = None if row["patient_age"] is None else str(row["patient_age"])
    return pa.Table.from_pylist(base)


@pytest.mark.parametrize("ood", [RULES_ONLY, {**RULES_ONLY, "reasons": {"unseen_category": {"min_frequency": 0.2}}}])
def test_counts_over_any_batching_equal_the_rules_of_a_check_on_the_same_rows(profile, ood: dict) -> None:
    settings = OodSettings.model_validate({"reasons": {**RULES_ONLY["reasons"], **ood.get("reasons", {})}})
    shaper = RowShaper(profile, settings)
    table = _messy(1500, seed=4)
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.choice(np.arange(1, table.num_rows), 40, replace=False))
    total = shaper.zero_counts()
    batches = []
    for lo, hi in zip([0, *cuts], [*cuts, table.num_rows], strict=True):
        batch = shaper.normalize(table.slice(lo, hi - lo)).batch
        batches.append(batch)
        total += shaper.counts(batch)
    # the check's own rules, on the same rows read raw, and on the rows as the window shaped them
    for rows in (table, pa.Table.from_batches(batches)):
        expected = OodModel(profile, settings).score(rows)
        assert expected.ood_rows > 100 and all(expected.by_reason[r] > 0 for r in RULES)
        assert total[-1, ANY_RULE] == expected.ood_rows
        assert {r: int(total[-1, RULE_COLUMNS[r]]) for r in RULES} == expected.by_reason
        assert dict(zip(shaper.names, total[:-1, ANY_RULE].tolist(), strict=True)) == expected.features


def test_a_window_counts_the_rules_on_every_row_not_only_its_sample(profile, tmp_path) -> None:
    live = LiveMonitor(_monitor(**RULES_ONLY), profile, tmp_path, seed=1)
    tables = [_messy(300, seed=s) for s in range(5)]
    for s, table in enumerate(tables):
        live.ingest(table, now=T0 + s)
    snap = live.snapshot(T0 + 10)
    assert snap.rows == 1500 and snap.sample.num_rows == 200 and snap.rules is not None
    expected = OodModel(profile, OodSettings.model_validate(RULES_ONLY)).score(pa.concat_tables(tables))
    assert (snap.rules.rows, snap.rules.ood_rows) == (1500, expected.ood_rows)
    assert snap.rules.by_reason == expected.by_reason and snap.rules.features == expected.features
    assert snap.rules.to_dict()["rate"] == pytest.approx(expected.ood_rows / 1500)


def test_no_rules_are_counted_with_ood_disabled(profile, tmp_path) -> None:
    live = LiveMonitor(_monitor(enabled=False), profile, tmp_path, seed=1)
    live.ingest(_messy(100, seed=1), now=T0)
    snap = live.snapshot(T0 + 1)
    assert snap.rules is None and snap.rows == 100
    assert not live.shaper.counts(live.shaper.normalize(_messy(50, seed=2)).batch)[:, ANY_RULE].any()


def test_a_sliding_window_counts_the_rules_of_the_rows_it_keeps(profile, tmp_path) -> None:
    sliding = {"type": "sliding", "rows": 500}
    mon = MonitorConfig.model_validate({**_monitor(**RULES_ONLY).model_dump(), "window": sliding})
    live = LiveMonitor(mon, profile, tmp_path, seed=1)
    tables = [_messy(300, seed=s) for s in range(4)]
    for s, table in enumerate(tables):
        live.ingest(table, now=T0 + s)
    snap = live.snapshot(T0 + 10)
    kept = pa.concat_tables(tables).slice(700)  # the last 500 rows
    expected = OodModel(profile, OodSettings.model_validate(RULES_ONLY)).score(kept)
    assert snap.rules is not None and (snap.rules.rows, snap.rules.ood_rows) == (500, expected.ood_rows)
    assert snap.rules.by_reason == expected.by_reason
