"""The application's databases: engines (SQLite pragmas, a bounded PostgreSQL pool, an
autocommit engine for one-statement reads and its retry), the session factory, and
the one session of each request, opened on first use and closed at teardown."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import Connection, create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

# Writers queue behind each other instead of failing, but not past the 5 s in which a
# request must be answered: a write locked out longer is a 503 (errors.UNAVAILABLE).
SQLITE_BUSY_TIMEOUT_MS = 4_000
PG_POOL_SIZE = 5  # per process; a gunicorn worker rarely needs more than a few
PG_MAX_OVERFLOW = 5
PG_POOL_TIMEOUT_S = 3  # a request waiting longer than this for a connection gets a 503
PG_CONNECT_TIMEOUT_S = 2  # an unreachable server (no RST, a dropped route) is a 503, not a hang
ENGINE = "chinhdanh.engine"
READ_ENGINE = "chinhdanh.read_engine"
SESSIONMAKER = "chinhdanh.sessionmaker"
_REQUEST_SESSION = "_db_session"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with this project's settings.

    SQLite runs in WAL mode with a busy timeout so concurrent requests wait rather
    than fail; foreign keys are enforced. PostgreSQL gets a bounded pool.
    """
    if url.startswith("sqlite"):
        private_sqlite_file(url)
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
    if "connect_timeout" not in url:
        kwargs.setdefault("connect_args", {"connect_timeout": PG_CONNECT_TIMEOUT_S})
    return create_engine(url, **kwargs)


def private_sqlite_file(url: str) -> None:
    """Create the SQLite file of ``url`` readable by its owner only (0600) before
    SQLite does (it would follow the umask, often 0644), and take group and other
    access away from an existing one and its ``-wal`` and ``-shm`` files (SQLite
    gives those the database file's mode when it creates them)."""
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if each.exists() and stat.S_IMODE(each.stat().st_mode) & 0o077:
            os.chmod(each, 0o600)


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


def init_app(app: Flask) -> None:
    """The app's engines and session factory, and the request session's teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[ENGINE] = engine
    app.extensions[SESSIONMAKER] = make_sessionmaker(engine)
    app.extensions[READ_ENGINE] = make_read_engine(engine)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop(_REQUEST_SESSION, None)
        if session is not None:
            session.close()


def dispose_engines(app: Flask) -> None:
    """Close every pooled connection of ``app`` (tests and benches that build many apps)."""
    for name in (READ_ENGINE, ENGINE):
        app.extensions[name].dispose()


def sessions(app: Flask | None = None) -> sessionmaker[Session]:
    """The session factory of ``app`` (the current app by default)."""
    made: sessionmaker[Session] = (app or current_app).extensions[SESSIONMAKER]
    return made


def read_engine(app: Flask | None = None) -> Engine:
    """The autocommit engine of ``app`` for one-statement reads."""
    engine: Engine = (app or current_app).extensions[READ_ENGINE]
    return engine


def db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if _REQUEST_SESSION not in g:
        setattr(g, _REQUEST_SESSION, sessions()())
    session: Session = getattr(g, _REQUEST_SESSION)
    return session
