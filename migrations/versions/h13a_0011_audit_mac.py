"""audit mac: each audit entry's HMAC under a key derived from the master key, and
where the keyed chain starts (the migration cannot know the master key: `flask --app
app db upgrade` re-chains the old entries right after it, or `audit rechain` does)

Revision ID: h13a_0011_audit_mac
Revises: h15m_0012_alerts
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h13a_0011_audit_mac"
down_revision: str | None = "h15m_0012_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("keyed_since", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("legacy_head", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("legacy_head")
        batch.drop_column("keyed_since")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("mac")
