"""alerts to the genuine staff member: opt-outs, the hourly window of live-code
alerts, and card checks by named agencies (the daily digest)

Revision ID: h15m_0012_alerts
Revises: h15w_0011_public_warnings
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from keys.orm import UTCDateTime

revision: str = "h15m_0012_alerts"
down_revision: str | None = "h15w_0011_public_warnings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



def upgrade() -> None:
    op.create_table(
        "alert_optouts",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "live_code", "report", "digest", name="alertkind", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_alert_optouts_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", "kind", name=op.f("pk_alert_optouts")),
    )
    op.create_table(
        "live_code_alert_windows",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("untold", sa.Integer(), nullable=False),
        sa.Column("untold_since", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_live_code_alert_windows_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_live_code_alert_windows")),
    )
    op.create_table(
        "card_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_card_checks_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_checks")),
    )
    with op.batch_alter_table("card_checks") as batch:
        batch.create_index("ix_card_checks_at_staff", ["at", "staff_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("card_checks") as batch:
        batch.drop_index("ix_card_checks_at_staff")
    op.drop_table("card_checks")
    op.drop_table("live_code_alert_windows")
    op.drop_table("alert_optouts")
