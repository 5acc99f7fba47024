"""A select compiled once per dialect and run on the DB-API cursor: the hot path's
reads (a verification's one query) without SQLAlchemy's execution layers."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True, slots=True)
class PreparedRead:
    """A select compiled once for one dialect and run on the DB-API cursor.

    SQLAlchemy's execution and result layers cost 40-45 us of the 55 us a
    verification's query took here; the statement itself, 10 us. This keeps what
    matters of them: the SQL as SQLAlchemy compiles it for the dialect (casts and
    paramstyle included), the bind processors of the constants and the result
    processors of every column (enums, JSON, UTC datetimes), so rows come back
    exactly as ``Connection.execute`` gives them. Errors are raised as SQLAlchemy
    raises them (``DBAPIError``), and a dropped connection is invalidated."""

    sql: str
    positional: tuple[str, ...] | None
    constants: dict[str, Any]
    processors: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def compile(cls, query: Select[*tuple[Any, ...]], dialect: Dialect) -> PreparedRead:
        compiled = query.compile(dialect=dialect)
        constants = {}
        for name, value in compiled.params.items():
            if value is None:
                continue  # a parameter the caller gives
            process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            constants[name] = process(value) if process else value
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in query.selected_columns
        )
        positional = tuple(compiled.positiontup) if compiled.positiontup is not None else None
        return cls(str(compiled), positional, constants, processors)

    def first(self, conn: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        rows = self._run(conn, params, lambda cursor: [row] if (row := cursor.fetchone()) is not None else [])
        return rows[0] if rows else None

    def all(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self._run(conn, params, lambda cursor: list(cursor.fetchall()))

    def _run(
        self, conn: Connection, params: dict[str, Any], fetch: Callable[[Any], list[Any]]
    ) -> list[tuple[Any, ...]]:
        values = {**self.constants, **params}
        args: Any = tuple(values[name] for name in self.positional) if self.positional is not None else values
        raw = conn.connection.dbapi_connection
        if raw is None:
            raise RuntimeError("connection is closed")
        cursor = raw.cursor()
        try:
            cursor.execute(self.sql, args)
            rows = fetch(cursor)
        except conn.dialect.loaded_dbapi.Error as exc:
            dropped = conn.dialect.is_disconnect(exc, raw, cursor)
            if dropped:
                conn.invalidate(exc)
            dbapi_error = conn.dialect.loaded_dbapi.Error
            raise DBAPIError.instance(
                self.sql, args, exc, dbapi_error, connection_invalidated=dropped, dialect=conn.dialect
            ) from exc
        finally:
            cursor.close()
        return [
            tuple(
                value if process is None else process(value)
                for process, value in zip(self.processors, row, strict=True)
            )
            for row in rows
        ]


# Each hot-path query compiled per dialect object (an engine has one), held weakly: a
# new engine's dialect can never pick up a statement compiled for another that
# happened to have its address. Two threads compiling one at once store the same.
Compiled = weakref.WeakKeyDictionary[Dialect, PreparedRead]


def prepared_for(reads: Compiled, query: Select[*tuple[Any, ...]], conn: Connection) -> PreparedRead:
    """``query`` compiled for ``conn``'s dialect, once (kept in ``reads``)."""
    prepared = reads.get(conn.dialect)
    if prepared is None:
        prepared = reads[conn.dialect] = PreparedRead.compile(query, conn.dialect)
    return prepared
