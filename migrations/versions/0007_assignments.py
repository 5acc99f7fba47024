"""assignments: the details of letters of introduction (credentials of kind assignment)

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-22 03:15:08.987133
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("credential_id", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("agency_domain", sa.String(length=253), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("letter_year", sa.Integer(), nullable=False),
        sa.Column("letter_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credentials.id"], name=op.f("fk_assignments_credential_id_credentials")
        ),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("letter_year", "letter_seq", name="uq_assignments_letter_number"),
    )


def downgrade() -> None:
    op.drop_table("assignments")
