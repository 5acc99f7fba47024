"""admin accounts: users with role, argon2id hash, sealed TOTP secret, lockout state,
session generation; one-time setup links.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22 03:14:33.337543
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keys.db

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin", "issuer", "reviewer", name="adminrole", native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "active",
                "disabled",
                name="accountstatus",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("totp_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", keys.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_until", keys.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("session_generation", sa.Integer(), nullable=False),
        sa.Column("created_at", keys.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("last_login_at", keys.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_users")),
        sa.UniqueConstraint("username", name=op.f("uq_admin_users_username")),
    )
    op.create_table(
        "admin_setup_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", keys.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", keys.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", keys.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["admin_users.id"], name=op.f("fk_admin_setup_tokens_user_id_admin_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_setup_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_admin_setup_tokens_token_hash")),
    )
    with op.batch_alter_table("admin_setup_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_setup_tokens_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("admin_setup_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_setup_tokens_user_id"))
    op.drop_table("admin_setup_tokens")
    op.drop_table("admin_users")
