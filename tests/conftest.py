"""Shared fixtures.

The database is SQLite (a temporary file) unless ``TEST_DATABASE_URL`` is set, in
which case the same tests run on that database (CI points it at PostgreSQL). The
schema is built once per run by the real Alembic migrations.

Isolation: every test starts from empty tables. Services never commit, but views and
CLI commands do, and several tests talk to real servers in other processes, which a
rolled-back outer transaction cannot serve; so the tables are emptied after each
test instead.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app import create_app, load_models
from keys.crypto import MasterKey
from registry.platform.db import dispose_engines, make_engine

BASE_URL = "https://xacminh.thiduakhenthuong.vn"  # 35 characters, as the QR budget assumes
MASTER_B64 = base64.b64encode(bytes(range(32))).decode()
NOW = datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
TEST_OUTPUT = ROOT / "test-output"  # screenshots a run leaves behind (CI may collect them)


def _database_url(tmp_root: Path) -> str:
    """SQLite in a temporary file, else TEST_DATABASE_URL; under pytest-xdist each
    worker gets its own PostgreSQL database beside it (``test_gw0``, ``test_gw1``)."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if not configured:
        return f"sqlite:///{tmp_root / 'test.sqlite3'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return configured
    base = make_url(configured)
    own = base.set(database=f"{base.database}_{worker}")
    admin = make_engine(configured, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own.database}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    finally:
        admin.dispose()
    return own.render_as_string(hide_password=False)


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("prepend_sys_path", str(ROOT))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "heads")


def reset_schema(engine: Engine) -> None:
    """Drop everything so the migrations run on an empty database."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for table in reversed(load_models().sorted_tables):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def empty_tables(engine: Engine) -> None:
    existing = set(inspect(engine).get_table_names())
    tables = [t.name for t in load_models().sorted_tables if t.name in existing]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = _database_url(tmp_path_factory.mktemp("db"))
    engine = make_engine(url)
    reset_schema(engine)
    migrate(url)
    engine.dispose()
    yield url


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


class FrozenClock:
    """The app's clock in tests: it stands at ``at`` (the tests' NOW) until a test
    moves it, so that nothing a test checks depends on today's date."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def pyjwt_leeway() -> timedelta:
    """PyJWT judges ``exp``, ``nbf`` and ``iat`` by the wall clock, and the tests' tokens
    are issued at NOW: with this leeway it judges them as of NOW, whatever today is."""
    return abs(datetime.now(UTC) - NOW) + timedelta(minutes=1)


def app_config(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "CLOCK": FrozenClock(NOW),
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PUBLIC_BASE_URL": BASE_URL,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


@pytest.fixture()
def clock() -> FrozenClock:
    """The clock of the ``app`` fixture: a test sets ``clock.at`` to move it."""
    return FrozenClock(NOW)


@pytest.fixture()
def app(
    database_url: str, db_engine: Engine, tmp_path: Path, request: pytest.FixtureRequest, clock: FrozenClock
) -> Iterator[Flask]:
    extra = getattr(request, "param", None) or {}
    application = create_app(app_config(database_url, tmp_path / "instance", CLOCK=clock, **extra))
    yield application
    dispose_engines(application)
    empty_tables(db_engine)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture()
def session(app: Flask) -> Iterator[Session]:
    s: Session = app.extensions["chinhdanh.sessionmaker"]()
    yield s
    s.close()


@pytest.fixture()
def master() -> MasterKey:
    return MasterKey.from_b64(MASTER_B64)


# The tests' offline roots, by kid: in production the private key is in the operator's
# file; here the test process holds it, as the operator's machine would.
TEST_ROOTS: dict[str, Any] = {}


def make_root(session: Session, *, now: datetime = NOW, rotate: bool = False) -> Any:
    """An active root key (its public half in the database, the private one in
    TEST_ROOTS), flushed."""
    from keys import root

    key, private = root.new_root(session, now=now, rotate=rotate)
    TEST_ROOTS[key.kid] = private
    return key


def sign_keys(session: Session, *, issuer: str = BASE_URL, now: datetime = NOW, days: int = 30) -> Any:
    """Sign the current key set with the active root, as `keys root sign` does, and
    commit: the server serves it from then on."""
    from keys import root, service
    from keys.models import KeyPurpose

    active = service.active_key(session, KeyPurpose.ROOT)
    document = root.sign_keyset(session, TEST_ROOTS[active.kid], issuer=issuer, now=now, days=days)
    session.commit()
    return document


def make_keys(session: Session, master: MasterKey, *, issuer: str = BASE_URL, now: datetime = NOW) -> Any:
    """A root, an active signing key and a key set signed for ``issuer``, committed."""
    from keys import service

    make_root(session, now=now)
    key = service.generate_key(session, master, now=now)
    sign_keys(session, issuer=issuer, now=now)
    return key


@pytest.fixture()
def signing_key(session: Session, master: MasterKey) -> Any:
    """An active signing key and root key, and the key set they make signed for
    BASE_URL, committed."""
    return make_keys(session, master)


def add_person(session: Session, code: str = "TTTT-001", name: str = "Nguyễn Văn Đức", **fields: Any) -> Any:
    from registry.staff.service import add_staff, validate_staff

    data = validate_staff(
        code=code,
        name=name,
        title=fields.get("title", "Phóng viên"),
        unit=fields.get("unit", "Trung tâm Thông tin - Truyền thông"),
        phone=fields.get("phone", "0912 345 678"),
        email=fields.get("email", "duc.nv@tdkt.gov.vn"),
    )
    person = add_staff(session, data, actor="test", now=NOW)
    session.commit()
    return person


def issue(session: Session, master: MasterKey, code: str = "TTTT-001", *, now: datetime = NOW, days: int = 365) -> Any:
    from registry.credentials.service import issue_credential

    cred = issue_credential(session, master, staff_code=code, base_url=BASE_URL, now=now, actor="test", days=days)
    session.commit()
    return cred


@pytest.fixture()
def browser() -> Iterator[Any]:
    """Debian's chromium, one per test (test_browser_public keeps one per module)."""
    from helpers_browser import launched

    with launched() as chromium:
        yield chromium


# ------------------------------------------------------------------ fuzz counts in CI

_fuzz_counts: list[dict[str, Any]] = []


@pytest.fixture()
def fuzz_tally(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A helpers_hostile.Tally for a fuzz run to fill in (``run`` names it); its counts
    go to the terminal summary at teardown, so a failing run shows them too."""
    from helpers_hostile import FUZZ_COUNTS, Tally

    tally = Tally(run=request.node.name)
    yield tally
    request.node.user_properties.append((FUZZ_COUNTS, tally.as_json()))


@pytest.fixture()
def fast_path_silent(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The fast path (verify/verification/fastpath.py) hands a request it fails on to Flask, which
    then answers well: fuzzing must see that failure all the same."""
    yield
    failures = [r.getMessage() for r in caplog.records if r.name == "chinhdanh.fastpath"]
    assert failures == []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the counts the fuzz runs record (helpers_hostile.Tally); under
    pytest-xdist this runs in the controller too, with the workers' user properties.
    The teardown report carries every property, those a fixture adds at teardown too."""
    if report.when == "teardown":
        _fuzz_counts.extend(cast(dict[str, Any], v) for name, v in report.user_properties if name == "fuzz_counts")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """One line per fuzz run, and test-output/mutation-counts.json, after the run."""
    if hasattr(config, "workerinput") or not _fuzz_counts:
        return
    import json

    from helpers_hostile import summary_line

    counts = sorted(_fuzz_counts, key=lambda c: c["run"])
    terminalreporter.section("fuzz counts")
    for entry in counts:
        terminalreporter.write_line(summary_line(entry))
    TEST_OUTPUT.mkdir(exist_ok=True)
    (TEST_OUTPUT / "mutation-counts.json").write_text(json.dumps(counts, indent=2, ensure_ascii=False) + "\n")
