"""public warnings: confirmed reports published without their reporter, and the
reporter's consent to name their agency in one

Revision ID: h15w_0011_public_warnings
Revises: 0010_evidence_quota
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keys.orm import UTCDateTime

revision: str = "h15w_0011_public_warnings"
down_revision: str | None = "0010_evidence_quota"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("publish_agency", sa.Boolean(), nullable=False, server_default="0"))
    op.create_table(
        "public_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("claimed_name", sa.String(length=200), nullable=True),
        sa.Column("claimed_unit", sa.String(length=200), nullable=True),
        sa.Column("staff_code", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("asked", sa.Text(), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=True),
        sa.Column("withdrawn_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_public_warnings_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_warnings")),
    )
    with op.batch_alter_table("public_warnings") as batch:
        batch.create_index(batch.f("ix_public_warnings_report_id"), ["report_id"], unique=False)
        batch.create_index("ix_public_warnings_withdrawn_published", ["withdrawn_at", "published_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("public_warnings") as batch:
        batch.drop_index("ix_public_warnings_withdrawn_published")
        batch.drop_index(batch.f("ix_public_warnings_report_id"))
    op.drop_table("public_warnings")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("publish_agency")
