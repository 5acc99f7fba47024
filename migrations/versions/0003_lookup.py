"""Lookup side: the Centre's official channels, live-code secrets and the live-code
failure log.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keys.db


revision: str = '0003'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('official_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('email', 'phone', 'domain', 'url', name='channelkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', keys.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official_channels')),
    sa.UniqueConstraint('kind', 'value', name='uq_official_channels_kind_value')
    )
    op.create_table('live_code_secrets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('secret_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('last_used_step', sa.Integer(), nullable=True),
    sa.Column('enrolled_at', keys.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('enrolled_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_live_code_secrets_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_code_secrets')),
    sa.UniqueConstraint('staff_id', name=op.f('uq_live_code_secrets_staff_id'))
    )
    op.create_table('live_code_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('at', keys.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_live_code_failures_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_code_failures'))
    )
    op.create_index('ix_live_code_failures_staff_at', 'live_code_failures', ['staff_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_live_code_failures_staff_at', table_name='live_code_failures')
    op.drop_table('live_code_failures')
    op.drop_table('live_code_secrets')
    op.drop_table('official_channels')
