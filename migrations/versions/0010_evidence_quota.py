"""evidence quota: evidence bytes accepted per client network and day, under a keyed
hash of the network and the day (never the address itself)

Revision ID: 0010_evidence_quota
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_evidence_quota"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_quota",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_evidence_quota")),
    )
    with op.batch_alter_table("evidence_quota") as batch:
        batch.create_index(batch.f("ix_evidence_quota_day"), ["day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_quota") as batch:
        batch.drop_index(batch.f("ix_evidence_quota_day"))
    op.drop_table("evidence_quota")
