"""Checks carry the text block of their text features (languages, code-switching, scripts, vocabulary).

The column is nullable: checks stored before read back with no text block.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("checks", sa.Column("text", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("checks", "text")
