"""evidence in the database: the bytes of each evidence file in ``evidence_blobs``,
moved in from the instance's evidence folder (idempotent; missing files are reported,
not fatal)

The folder is ``-x evidence=PATH`` if given, else the running app's
``instance/evidence`` (``flask --app app db upgrade``), else that of
``$CHINHDANH_INSTANCE`` or the repository's ``instance/``.

Revision ID: h14e_0011_evidence_in_db
Revises: h13r_0011_offline_root
Create Date: 2026-12-05
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

from verify.reports.evidence import EVIDENCE_DIR
from verify.reports.evidence_import import import_folder

revision: str = "h14e_0011_evidence_in_db"
down_revision: str | None = "h13r_0011_offline_root"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _folder() -> Path:
    given = context.get_x_argument(as_dictionary=True).get("evidence")
    if given:
        return Path(given)
    try:
        from flask import current_app

        return Path(current_app.instance_path) / EVIDENCE_DIR
    except RuntimeError:  # not inside the app (alembic on its own, the tests' fixture)
        root = Path(__file__).resolve().parents[2]
        return Path(os.environ.get("CHINHDANH_INSTANCE") or root / "instance") / EVIDENCE_DIR


def upgrade() -> None:
    op.create_table(
        "evidence_blobs",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["report_files.id"], name=op.f("fk_evidence_blobs_file_id_report_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_evidence_blobs")),
    )
    folder = _folder()
    done = import_folder(op.get_bind(), folder)
    if done.moved or done.missing:
        print(f"evidence: {done.moved} file(s) moved into the database from {folder}", file=sys.stderr)
    for line in done.missing:
        print(f"evidence: NOT moved, {line}", file=sys.stderr)


def downgrade() -> None:
    # the bytes are not written back to disk: take a backup first (flask --app app backup)
    op.drop_table("evidence_blobs")
