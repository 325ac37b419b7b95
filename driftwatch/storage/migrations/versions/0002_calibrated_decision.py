"""Checks and feature results carry their decision rule: calibrated p-values, levels, the threshold verdict.

Nullable columns only, so that rows stored before read back as what they were: threshold decisions. Downgrading
drops the columns (on SQLite that needs 3.35 or newer, which has ALTER TABLE ... DROP COLUMN).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types, as in 0001.
REAL = sa.Double()
FEATURE_COLUMNS = (
    ("threshold_drifted", sa.Boolean()),
    ("decision", sa.String(16)),
    ("calibration", sa.String(16)),
    ("missing_p_value", REAL),
    ("level", REAL),
)
CHECK_COLUMNS = (
    ("decision", sa.String(16)),
    ("alpha", REAL),
    ("look_share", REAL),
    ("level", REAL),
)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases: no table is rebuilt, so no row (or cascade) is touched.
    for name, type_ in FEATURE_COLUMNS:
        op.add_column("feature_results", sa.Column(name, type_, nullable=True))
    for name, type_ in CHECK_COLUMNS:
        op.add_column("checks", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(CHECK_COLUMNS):
        op.drop_column("checks", name)
    for name, _ in reversed(FEATURE_COLUMNS):
        op.drop_column("feature_results", name)
