"""Moving evidence files from the instance folder into the database, where they live
since migration h14e_0011 (so that every instance serves them and a backup holds
them). Used by that migration and by ``flask --app app reports import-evidence``.

Idempotent: a file whose bytes are already in the database is skipped, so the move
can be run again (after a missing file is put back, say). A file that is missing,
unreadable, or whose bytes do not match its recorded SHA-256, is reported and left
out, never fatal: its download then answers "missing from the server's storage".
The files on disk are left in place; the operator deletes the folder once satisfied.

It works on the tables as h14e_0011 made them (Core, not the models), so that the
migration keeps meaning the same thing whatever the models become.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection

from verify.reports.evidence import MAX_FILE_BYTES

_files = sa.table("report_files", sa.column("id", sa.Integer), sa.column("stored_name", sa.String), sa.column("sha256"))
_blobs = sa.table("evidence_blobs", sa.column("file_id", sa.Integer), sa.column("data", sa.LargeBinary))


@dataclass(slots=True)
class Moved:
    """What a run did: files moved in, already in, and left out (with the reason)."""

    moved: int = 0
    already: int = 0
    missing: list[str] = field(default_factory=list)  # "<stored_name>: <reason>"


def import_folder(conn: Connection, folder: Path) -> Moved:
    """Copy into ``evidence_blobs`` every ``report_files`` row's file from ``folder``
    that is not there yet. Executes on ``conn``; the caller commits."""
    done = Moved()
    rows = conn.execute(
        sa.select(_files.c.id, _files.c.stored_name, _files.c.sha256, _blobs.c.file_id)
        .select_from(_files.outerjoin(_blobs, _blobs.c.file_id == _files.c.id))
        .order_by(_files.c.id)
    ).all()
    for file_id, name, sha256, present in rows:
        if present is not None:
            done.already += 1
            continue
        path = folder / name
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            done.missing.append(f"{name}: {exc.strerror or 'unreadable'}")
            continue
        if hashlib.sha256(data).hexdigest() != sha256:
            done.missing.append(f"{name}: content does not match its recorded SHA-256")
            continue
        conn.execute(sa.insert(_blobs).values(file_id=file_id, data=data))
        done.moved += 1
    return done
