"""server-side console sessions (the cookie holds only a random id, the row its
hash), sign-in failure counters per username and source address, and the
authenticator secret a setup link shows once

Revision ID: h13s_0011_server_sessions
Revises: h13a_0011_audit_mac
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keys.db

revision: str = "h13s_0011_server_sessions"
down_revision: str | None = "h13a_0011_audit_mac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", keys.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", keys.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", keys.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["admin_users.id"], name=op.f("fk_admin_sessions_user_id_admin_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_sessions")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_admin_sessions_id_hash")),
    )
    with op.batch_alter_table("admin_sessions") as batch:
        batch.create_index(batch.f("ix_admin_sessions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "signin_throttle",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", keys.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", keys.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username", "source", name=op.f("pk_signin_throttle")),
    )
    with op.batch_alter_table("signin_throttle") as batch:
        batch.create_index(batch.f("ix_signin_throttle_last_failed_at"), ["last_failed_at"], unique=False)
    with op.batch_alter_table("admin_setup_tokens") as batch:
        batch.add_column(sa.Column("secret_shown_at", keys.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_sealed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("admin_setup_tokens") as batch:
        batch.drop_column("totp_sealed")
        batch.drop_column("secret_shown_at")
    with op.batch_alter_table("signin_throttle") as batch:
        batch.drop_index(batch.f("ix_signin_throttle_last_failed_at"))
    op.drop_table("signin_throttle")
    with op.batch_alter_table("admin_sessions") as batch:
        batch.drop_index(batch.f("ix_admin_sessions_user_id"))
    op.drop_table("admin_sessions")
