"""Database plumbing shared by every package: the declarative base, engine creation
and the clock.

It lives in ``keys`` because ``keys`` is the bottom of the dependency graph
(``verify`` -> ``registry`` -> ``keys``); it imports neither Flask nor the other
packages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.orm import Session as Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000  # writers queue behind each other instead of failing
PG_POOL_SIZE = 5  # per process; a gunicorn worker rarely needs more than a few
PG_MAX_OVERFLOW = 5
PG_POOL_TIMEOUT_S = 10  # a request waiting longer than this for a connection fails fast


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL's ``timestamptz`` does. Both come back as aware
    UTC datetimes, so comparisons never mix naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every model, with named constraints for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with this project's settings.

    SQLite runs in WAL mode with a busy timeout so concurrent requests wait rather
    than fail; foreign keys are enforced. PostgreSQL gets a bounded pool.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", PG_POOL_SIZE)
        kwargs.setdefault("max_overflow", PG_MAX_OVERFLOW)
        kwargs.setdefault("pool_timeout", PG_POOL_TIMEOUT_S)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_read_engine(engine: Engine) -> Engine:
    """An engine beside ``engine`` for one-statement reads (verification): its
    connections are in autocommit, so a read is one round trip with no BEGIN and no
    ROLLBACK around it (on PostgreSQL 0.35-0.6 ms instead of 1.2-1.9 ms here), and a
    checkout does not ping the server first (another round trip: the verify bench's
    ratio on PostgreSQL went 0.32 -> 0.57 without it). Reads go through
    ``read_with_retry``, which recovers from a dropped connection instead. An
    in-memory SQLite database exists once per connection, so it keeps ``engine``."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return engine
    return make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT", pool_pre_ping=False)


T = TypeVar("T")


def read_with_retry(engine: Engine, read: Callable[[Connection], T]) -> T:
    """``read(conn)`` on a pooled connection of ``engine``. When the server has dropped
    the connection (a restart, an idle timeout), the whole pool is let go, as its
    other connections are most likely dead too, and the read runs once more on a new
    connection; any other error, or a second drop, is raised."""
    try:
        with engine.connect() as conn:
            return read(conn)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        engine.dispose(close=False)
    with engine.connect() as conn:
        return read(conn)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views render after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def str_enum(enum_cls: type[Any], length: int = 24) -> Any:
    """A portable column type for a ``StrEnum``: VARCHAR plus a CHECK constraint.

    Native PostgreSQL enums make every new state a migration of the type itself;
    a checked string does the same job on both databases.
    """
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        create_constraint=True,
        validate_strings=True,
        name=enum_cls.__name__.lower(),
    )
