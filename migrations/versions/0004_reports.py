"""Impersonation reports: reports, evidence files, identifiers, the per-year
reference counter and the webhook outbox.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22 03:14:50.467295
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import keys.db


revision: str = '0004'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_report_counters'))
    )
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('new', 'reviewing', 'confirmed', 'not_impersonation', 'duplicate', name='reportstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('channel', sa.Enum('phone', 'email', 'zalo', 'facebook', 'letter', 'in_person', 'other', name='reportchannel', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('claimed_name', sa.String(length=200), nullable=True),
    sa.Column('claimed_title', sa.String(length=200), nullable=True),
    sa.Column('claimed_unit', sa.String(length=200), nullable=True),
    sa.Column('staff_code', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('social_link', sa.String(length=500), nullable=True),
    sa.Column('bank_account', sa.String(length=100), nullable=True),
    sa.Column('request_text', sa.Text(), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=True),
    sa.Column('occurred_at', keys.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('evidence_text', sa.Text(), nullable=True),
    sa.Column('reporter_agency', sa.String(length=200), nullable=False),
    sa.Column('reporter_contact', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('triage_note', sa.Text(), nullable=True),
    sa.Column('duplicate_of', sa.String(length=16), nullable=True),
    sa.Column('triaged_by', sa.String(length=64), nullable=True),
    sa.Column('triaged_at', keys.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', keys.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', keys.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('reference', name=op.f('uq_reports_reference')),
    sa.UniqueConstraint('year', 'seq', name='uq_reports_year_seq')
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_status_created', ['status', 'created_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='outboxstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', keys.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', keys.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', keys.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_outbox_report_id_reports'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_report_id'), ['report_id'], unique=False)
        batch_op.create_index('ix_outbox_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('report_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', keys.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_files_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_files')),
    sa.UniqueConstraint('public_id', name=op.f('uq_report_files_public_id')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_report_files_stored_name'))
    )
    with op.batch_alter_table('report_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_files_report_id'), ['report_id'], unique=False)

    op.create_table('report_identifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('phone', 'email', 'account', 'link', name='identifierkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('value', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_identifiers_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_identifiers')),
    sa.UniqueConstraint('report_id', 'kind', 'value', name='uq_report_identifiers_report_kind_value')
    )
    with op.batch_alter_table('report_identifiers', schema=None) as batch_op:
        batch_op.create_index('ix_report_identifiers_kind_value', ['kind', 'value'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_identifiers', schema=None) as batch_op:
        batch_op.drop_index('ix_report_identifiers_kind_value')

    op.drop_table('report_identifiers')
    with op.batch_alter_table('report_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_files_report_id'))

    op.drop_table('report_files')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_next')
        batch_op.drop_index(batch_op.f('ix_outbox_report_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_status_created')

    op.drop_table('reports')
    op.drop_table('report_counters')
