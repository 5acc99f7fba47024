"""Backups: a consistent, versioned, compressed snapshot of every table, and its
restore into an empty database (SQLite or PostgreSQL), which is also how an embedded
SQLite installation moves to PostgreSQL.

A backup is gzip-compressed JSON lines:

- a header ``{"format": "chinhdanh-backup", "version": 1, "revision": [...], ...}``
  (``revision``: the Alembic revision(s) of the schema it was taken from);
- per table, ``{"table": name, "columns": [...]}``, then one JSON array per row, then
  ``{"end": name, "rows": n}``;
- a last line ``{"end_of_backup": true, "tables": n}``: a file without it is truncated.

Values that JSON has no type for are tagged: bytes ``{"$b64": …}``, timestamps
``{"$dt": ISO 8601}``, dates ``{"$date": …}``, decimals ``{"$dec": …}``; JSON columns
are kept as they are. Every table is read in one transaction (REPEATABLE READ on
PostgreSQL; SQLite's read transaction is a snapshot), so the backup is the state of
one moment: no report without its files, no audit entry without its head.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy import Connection, MetaData
from sqlalchemy.engine import Engine

from registry.errors import ConflictError

FORMAT = "chinhdanh-backup"
FORMAT_VERSION = 1  # bumped when the file layout changes; a reader refuses newer ones
BATCH_ROWS = 500  # rows inserted per statement on restore: bounded memory, few round trips
VERSION_TABLE = "alembic_version"
REFUSED_EXIT = 2  # what the commands exit with when they refuse (non-empty target, bad file)


class BackupRefused(ConflictError, code="restore_refused"):
    """The restore will not run: a non-empty target, a corrupt or newer file."""


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, Enum):
        return value.value
    return value


_DECODERS: dict[str, Callable[[str], Any]] = {
    "$b64": base64.b64decode,
    "$dt": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$dec": Decimal,
}


def _decode(value: Any, is_json: bool) -> Any:
    if is_json or not isinstance(value, dict) or len(value) != 1:
        return value
    ((tag, raw),) = value.items()
    return _DECODERS[tag](raw) if tag in _DECODERS else value


def _is_json(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.JSON)


def current_revisions(conn: Connection) -> list[str]:
    """The Alembic revision(s) the database is at ([] if it has no schema)."""
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return []
    version = sa.table(VERSION_TABLE, sa.column("version_num", sa.String))
    return sorted(conn.execute(sa.select(version.c.version_num)).scalars())


@dataclass(frozen=True, slots=True)
class Written:
    tables: int
    rows: int


def write_backup(engine: Engine, metadata: MetaData, out: IO[bytes], *, heads: list[str], now: datetime) -> Written:
    """Write a backup of every table of ``metadata`` to ``out`` (a binary file).

    Raises BackupRefused if the database's schema is not at ``heads`` (this program's
    migrations: the models describe that schema; run ``db upgrade`` first), or has
    tables the models do not describe."""
    tables = rows = 0
    conn = engine.connect()
    try:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin(), gzip.GzipFile(fileobj=out, mode="wb") as gz:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1")  # the snapshot starts at the first read
            revision = current_revisions(conn)
            if revision != sorted(heads):
                raise BackupRefused(
                    "the database's schema is at {rev}, this program's at {heads}: "
                    "run flask --app app db upgrade first",
                    params={"rev": ", ".join(revision) or "none", "heads": ", ".join(sorted(heads))},
                )
            unknown = set(sa.inspect(conn).get_table_names()) - set(metadata.tables) - {VERSION_TABLE}
            if unknown:  # a backup that silently left a table out would restore as a loss
                raise BackupRefused(
                    "the database has tables this program does not know ({tables}): back up with the version "
                    "that created them",
                    params={"tables": ", ".join(sorted(unknown))},
                )
            header = {"format": FORMAT, "version": FORMAT_VERSION, "revision": revision}
            header |= {"created_at": now.isoformat(), "source": engine.dialect.name}
            gz.write(_line(header))
            for table in metadata.sorted_tables:
                names = [c.name for c in table.columns]
                gz.write(_line({"table": table.name, "columns": names}))
                count = 0
                pk = list(table.primary_key.columns) or list(table.columns)
                for row in conn.execute(sa.select(table).order_by(*pk)).yield_per(BATCH_ROWS):
                    gz.write(_line([_encode(v) for v in row]))
                    count += 1
                gz.write(_line({"end": table.name, "rows": count}))
                tables, rows = tables + 1, rows + count
            gz.write(_line({"end_of_backup": True, "tables": tables}))
    finally:
        conn.close()
    return Written(tables, rows)


def _line(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _corrupt(detail: str) -> BackupRefused:
    return BackupRefused("the backup file is damaged or not a backup: {detail}", params={"detail": detail})


def _lines(path: Path) -> Iterator[Any]:
    """The file's JSON lines; BackupRefused on a damaged or truncated file."""
    try:
        with gzip.open(path, "rb") as gz:
            for raw in gz:
                yield json.loads(raw)
    except (OSError, EOFError, zlib.error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _corrupt(str(exc) or type(exc).__name__) from exc


def read_header(path: Path, known: Callable[[str], bool]) -> dict[str, Any]:
    """The backup's header, checked: its format, a version this code reads, and a
    schema revision this code knows (``known``); raise BackupRefused otherwise."""
    header = next(_lines(path), None)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _corrupt("no chinhdanh backup header")
    version = header.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupRefused(
            "the backup's format version {v} is newer than this program reads ({mine}): restore with a newer version",
            params={"v": version, "mine": FORMAT_VERSION},
        )
    revision = header.get("revision")
    if not isinstance(revision, list) or not revision or not all(isinstance(r, str) and known(r) for r in revision):
        raise BackupRefused(
            "the backup comes from a schema this program does not know ({rev}), a newer one: "
            "restore with the version that wrote it",
            params={"rev": ", ".join(map(str, revision or [])) or "none"},
        )
    return header


def non_empty_tables(conn: Connection) -> list[str]:
    """The tables of the database (but Alembic's) that hold at least one row."""
    inspector = sa.inspect(conn)
    full = []
    for name in sorted(inspector.get_table_names()):
        if name == VERSION_TABLE:
            continue
        if conn.execute(sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)).first() is not None:
            full.append(name)
    return full


def check_target(engine: Engine, revision: list[str]) -> None:
    """Refuse a target that holds any row, or whose schema is at another revision."""
    with engine.connect() as conn:
        full = non_empty_tables(conn)
        if full:
            raise BackupRefused(
                "the target database is not empty ({tables}): restore only into an empty database",
                params={"tables": ", ".join(full[:5]) + (", …" if len(full) > 5 else "")},
            )
        present = current_revisions(conn)
    if present and present != sorted(revision):
        raise BackupRefused(
            "the target database's schema is at {present}, the backup's at {rev}: "
            "restore into a database without tables",
            params={"present": ", ".join(present), "rev": ", ".join(revision)},
        )


def load(engine: Engine, metadata: MetaData, path: Path) -> int:
    """Insert the rows of the backup at ``path`` into the (checked, empty) database at
    the backup's schema, in one transaction; returns how many rows. A column that the
    models no longer have keeps the database's own type. Raises BackupRefused if the
    file is damaged (nothing is then loaded)."""
    loaded = 0
    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        lines = _lines(path)
        next(lines)  # the header, read and checked by read_header
        table: sa.Table | None = None
        json_cols: list[bool] = []
        batch: list[dict[str, Any]] = []
        for item in lines:
            if isinstance(item, list):
                if table is None or len(item) != len(json_cols):
                    raise _corrupt("a row outside a table, or of the wrong width")
                batch.append({c.name: _decode(v, j) for c, v, j in zip(table.columns, item, json_cols, strict=True)})
                if len(batch) >= BATCH_ROWS:
                    conn.execute(sa.insert(table), batch)
                    loaded, batch = loaded + len(batch), []
            elif isinstance(item, dict) and "table" in item:
                table = _target_table(inspector, metadata, str(item["table"]), list(item["columns"]))
                json_cols = [_is_json(c) for c in table.columns]
            elif isinstance(item, dict) and "end" in item:
                if table is None or item["end"] != table.name:
                    raise _corrupt("a table's end without its start")
                if batch:
                    conn.execute(sa.insert(table), batch)
                    loaded, batch = loaded + len(batch), []
                table = None
            elif isinstance(item, dict) and item.get("end_of_backup") is True:
                if table is not None:
                    raise _corrupt("the last table is not closed")
                break
            else:
                raise _corrupt("an unexpected line")
        else:
            raise _corrupt("the file ends before its last line: it is truncated")
        if engine.dialect.name == "postgresql":
            _reset_sequences(conn, metadata)
    return loaded


def _target_table(inspector: Any, metadata: MetaData, name: str, columns: list[str]) -> sa.Table:
    """A Core table of ``name`` with exactly ``columns``: the models' types where the
    models have the column (timestamps in UTC, enums), else the database's."""
    if not inspector.has_table(name):
        raise _corrupt(f"the backup has a table {name!r} that its own schema lacks")
    reflected = {c["name"]: c["type"] for c in inspector.get_columns(name)}
    model = metadata.tables.get(name)
    cols = []
    for col in columns:
        if model is not None and col in model.c:
            cols.append(sa.Column(col, model.c[col].type))
        elif col in reflected:
            cols.append(sa.Column(col, reflected[col]))
        else:
            raise _corrupt(f"the backup has a column {name}.{col} that its own schema lacks")
    return sa.Table(name, MetaData(), *cols)


def _reset_sequences(conn: Connection, metadata: MetaData) -> None:
    """PostgreSQL's identity sequences go on after the restored ids, not from 1."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto" and isinstance(column.type, sa.Integer) and len(table.primary_key) == 1
            ):
                seq = conn.execute(
                    sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
                ).scalar()
                if seq:
                    last = sa.select(sa.func.max(column)).scalar_subquery()
                    conn.execute(sa.select(sa.func.setval(seq, sa.func.coalesce(last, 0) + 1, False)))
