"""status lists: a secret per list that scatters the entries it hands out

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22

Lists created before this keep no key and go on handing out entries in order.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("status_lists") as batch:
        batch.add_column(sa.Column("index_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_lists") as batch:
        batch.drop_column("index_key")
