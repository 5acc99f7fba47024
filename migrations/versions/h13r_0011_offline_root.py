"""offline root: a root key's private key is no longer stored (the column may be
empty), and the key set is signed once by ``keys root sign`` and stored as it is

Revision ID: h13r_0011_offline_root
Revises: h13s_0011_server_sessions
Create Date: 2026-12-05

An existing root keeps its sealed private key until ``keys root export --out FILE``
moves it to a file and clears it; until then nothing serves a key set (the server
no longer signs one per request), so run the export right after upgrading.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keys.db

revision: str = "h13r_0011_offline_root"
down_revision: str | None = "h13s_0011_server_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("private_key_sealed", existing_type=sa.LargeBinary(), nullable=True)
    op.create_table(
        "signed_keysets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("root_kid", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("key_states", sa.JSON(), nullable=False),
        sa.Column("issued_at", keys.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", keys.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_keysets")),
        sa.UniqueConstraint("version", name=op.f("uq_signed_keysets_version")),
    )


def downgrade() -> None:
    op.drop_table("signed_keysets")
    # a root exported to a file has no private key here any more: it cannot come back
    op.execute("DELETE FROM signing_keys WHERE private_key_sealed IS NULL")
    with op.batch_alter_table("signing_keys") as batch:
        batch.alter_column("private_key_sealed", existing_type=sa.LargeBinary(), nullable=False)
