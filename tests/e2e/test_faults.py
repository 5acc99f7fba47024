"""Faults (issue 14): the database refusing connections gives every endpoint a clear
503 within 5 s and the service recovers by itself; Redis down leaves the rate limits
working from memory; a crash in the middle of issuing leaves nothing behind."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from factories import add_person, app_config, issue, make_keys
from fixtures.database import migrate
from flask import Flask
from helpers_server import serve
from sqlalchemy import func, make_url, select, text
from sqlalchemy.pool import NullPool

from app import create_app
from keys.crypto import MasterKey
from registry.credentials import service as credentials
from registry.credentials.models import Credential, CredentialStatus, StatusList
from registry.platform.db import dispose_engines, make_engine

PG = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
ANSWER_WITHIN_S = 5.0
REDIS_PROXY_PORT = 21431  # h14e's port range; a stand-in for Redis that a test can stop
VI_DOWN = "Hệ thống tạm thời không kết nối được cơ sở dữ liệu"
EN_DOWN = "The service cannot reach its database right now"
REPORT = {
    "channel": "phone",
    "phone": "0912 000 111",
    "request_text": "Xin phí",
    "reporter_agency": "Sở X",
    "reporter_contact": "Anh B",
}


def _sessions(app: Flask) -> Any:
    return app.extensions["chinhdanh.sessionmaker"]


def _seed(app: Flask, master: MasterKey) -> str:
    with app.app_context(), _sessions(app)() as s:
        make_keys(s, master)
        add_person(s)
        return str(issue(s, master).token)


# ----------------------------------------------------------------- database down


@pytest.fixture()
def pg_app(tmp_path: Path) -> Iterator[tuple[Flask, str, Any]]:
    """An app on a PostgreSQL database of its own, and an admin engine (on the
    ``postgres`` database) that can close it to connections."""
    if not PG:
        pytest.skip("the database-down test needs TEST_DATABASE_URL on PostgreSQL")
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_faults"
    admin = make_engine(
        base.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    migrate(url)
    app = create_app(app_config(url, tmp_path / "instance"))
    yield app, name, admin
    dispose_engines(app)
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _close(admin: Any, name: str, allow: bool) -> None:
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allow else "false"}'))
        if not allow:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})


def _requests(token: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, method, requests' arguments): pages, the API, the fast path, a write."""
    report = REPORT
    return [
        ("readyz", "GET", {"url": "/readyz"}),
        ("verify api (fast path)", "GET", {"url": "/api/v1/verify", "params": {"token": token}}),
        ("verify api POST", "POST", {"url": "/api/v1/verify", "json": {"token": token}}),
        ("scan page", "GET", {"url": f"/v/{token}"}),
        ("scan page en", "GET", {"url": f"/v/{token}", "params": {"lang": "en"}}),
        ("lookup api", "GET", {"url": "/api/v1/lookup", "params": {"q": "0912 345 678"}}),
        ("lookup page", "GET", {"url": "/", "params": {"q": "0912 345 678"}}),
        ("report api", "POST", {"url": "/api/v1/reports", "json": report}),
        ("key set", "GET", {"url": "/.well-known/jwks.json"}),
        ("admin sign-in", "GET", {"url": "/admin/login"}),
    ]


def test_database_down_gives_503_within_5s_and_recovers_without_restart(
    pg_app: tuple[Flask, str, Any], master: MasterKey
) -> None:
    app, name, admin = pg_app
    token = _seed(app, master)
    http = requests  # no session: a lang cookie of one request must not carry to the next
    with serve(app) as base:
        calls = _requests(token)
        up = {label: http.request(method, base + kw["url"], **kw2(kw), timeout=30) for label, method, kw in calls}
        assert {label: r.status_code for label, r in up.items() if r.status_code >= 400} == {}
        _close(admin, name, allow=False)
        try:
            for label, method, kw in calls:
                started = time.monotonic()
                resp = http.request(method, base + kw["url"], **kw2(kw), timeout=30)
                took = time.monotonic() - started
                assert took < ANSWER_WITHIN_S, f"{label}: {took:.1f} s"
                if label == "admin sign-in" and resp.status_code == 200:
                    continue  # the sign-in form itself needs no database
                assert resp.status_code == 503, f"{label}: {resp.status_code} {resp.text[:300]}"
                assert resp.headers["Retry-After"] == "30"
                if "api" in label or label == "readyz" or label == "key set":
                    assert resp.json()["error"]["code"] == "database_unavailable", label
                    assert resp.json()["error"]["message"].startswith(VI_DOWN), label  # Vietnamese by default
                else:
                    page = resp.text
                    assert (EN_DOWN if label.endswith(" en") else VI_DOWN) in page, label
                    assert "Traceback" not in page
        finally:
            _close(admin, name, allow=True)
        # no restart: the same server answers again, from the first request on
        for label, method, kw in calls:
            resp = http.request(method, base + kw["url"], **kw2(kw), timeout=30)
            assert resp.status_code == up[label].status_code, f"{label} after recovery: {resp.status_code}"
        assert http.get(base + "/api/v1/verify", params={"token": token}, timeout=30).json()["verdict"] == "valid"


def kw2(kw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if k != "url"}


def test_sqlite_locked_past_its_busy_timeout_is_a_503_within_5s(app: Flask, client: Any, database_url: str) -> None:
    """A write that SQLite keeps locked out (another process holds the write lock)
    waits its busy timeout, then answers 503 in the user's language, not 500."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's own lock")
    import sqlite3

    holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long import in another process
        started = time.monotonic()
        resp = client.post("/api/v1/reports", json=REPORT)
        took = time.monotonic() - started
        assert resp.status_code == 503, resp.json
        assert resp.json["error"]["code"] == "database_unavailable"
        assert resp.json["error"]["message"].startswith(VI_DOWN)
        page = client.post("/report", data={**REPORT, "lang": "en"}, query_string={"lang": "en"})
        assert page.status_code == 503
        assert EN_DOWN in page.get_data(as_text=True)
        assert took < ANSWER_WITHIN_S
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.post("/api/v1/reports", json=REPORT).status_code == 201


# ----------------------------------------------------------------- Redis down


class Proxy:
    """A TCP forwarder to Redis that a test can stop and start: Redis "down" and
    "back" without touching the real server."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self.server: socket.socket | None = None
        self.conns: list[socket.socket] = []

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self.server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(OSError):
                self.server.shutdown(socket.SHUT_RDWR)  # unblocks accept(), or the port stays open
            self.server.close()
            self.server = None
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns = []


@pytest.fixture()
def redis_proxy() -> Iterator[Proxy]:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    proxy = Proxy(REDIS_PROXY_PORT, ("127.0.0.1", 6379))
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.mark.parametrize(
    "app",
    [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{REDIS_PROXY_PORT}/5"}],
    indirect=True,
)
def test_redis_down_limits_from_memory_with_a_warning_and_back(
    app: Flask, redis_proxy: Proxy, caplog: pytest.LogCaptureFixture
) -> None:
    from registry.platform.web import limiter

    limiter.reset()  # counts of earlier runs in Redis database 5
    client = app.test_client()

    def lookups(n: int, address: str) -> list[int]:
        return [
            client.get(
                "/api/v1/lookup", query_string={"q": "0912 345 678"}, environ_base={"REMOTE_ADDR": address}
            ).status_code
            for _ in range(n)
        ]

    assert lookups(3, "10.9.0.1") == [200] * 3
    redis_proxy.stop()
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        codes = lookups(61, "10.9.0.2")  # LOOKUP_LIMIT: 60 per minute
        took = time.monotonic() - started
    assert codes == [200] * 60 + [429]  # the limit holds, from memory
    assert took < 10
    assert "Rate limit storage unreachable - falling back to in-memory storage" in caplog.text
    # Redis back: the limiter finds it again by itself (it retries, backing off)
    redis_proxy.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and limiter._storage_dead:
        lookups(1, "10.9.0.3")
        time.sleep(0.5)
    assert not limiter._storage_dead
    assert lookups(2, "10.9.0.4") == [200, 200]
    limiter.reset()


# ----------------------------------------------------------------- crash while issuing


def test_a_crash_after_signing_leaves_no_credential_and_no_used_entry(
    app: Flask, session: Any, master: MasterKey, signing_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_person(session)
    first = issue(session, master)
    used = session.scalar(select(StatusList.next_index))
    bits = session.scalar(select(StatusList.bits))
    signed: list[str] = []
    real_sign = credentials.sign_credential

    def sign_then_crash(*args: Any, **kwargs: Any) -> Any:
        credential = real_sign(*args, **kwargs)
        signed.append(credential.token)
        raise RuntimeError("power cut after signing, before commit")

    monkeypatch.setattr(credentials, "sign_credential", sign_then_crash)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["credential", "issue", "TTTT-001"])
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    assert len(signed) == 1  # it did sign
    session.expire_all()
    assert session.scalars(select(Credential.id)).all() == [first.id]
    assert session.get(Credential, first.id).status is CredentialStatus.VALID  # not superseded either
    assert session.scalar(select(StatusList.next_index)) == used
    assert session.scalar(select(StatusList.bits)) == bits
    assert session.scalar(select(func.count()).select_from(Credential).where(Credential.token == signed[0])) == 0
    # the next issuance works and takes the entry the crashed one had taken
    monkeypatch.setattr(credentials, "sign_credential", real_sign)
    result = runner.invoke(args=["credential", "issue", "TTTT-001", "--json"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.scalar(select(StatusList.next_index)) == used + 1
    assert session.scalar(select(func.count()).select_from(Credential)) == 2


# ----------------------------------------------------------------- a database that never answers

SILENT_DB_PORT = 21432  # h14e's port range


@pytest.fixture()
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a database host lost
    behind a firewall that drops packets, the case where a client would wait forever."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", SILENT_DB_PORT))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield SILENT_DB_PORT
    stop.set()
    with contextlib.suppress(OSError):
        server.shutdown(socket.SHUT_RDWR)
    server.close()
    for conn in held:
        conn.close()


def test_a_database_that_never_answers_is_a_503_within_5s_not_a_hang(silent_server: int, tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/chinhdanh"
    app = create_app(app_config(url, tmp_path / "instance"))
    try:
        with serve(app) as base:
            for path, params in (
                ("/readyz", {}),
                ("/api/v1/verify", {"token": "eyJhbGciOiJFZERTQSJ9.e30.c2ln"}),
                ("/api/v1/lookup", {"q": "0912 345 678"}),
                ("/v/eyJhbGciOiJFZERTQSJ9.e30.c2ln", {}),
            ):
                started = time.monotonic()
                resp = requests.get(base + path, params=params, timeout=30)
                took = time.monotonic() - started
                assert resp.status_code == 503, (path, resp.status_code, resp.text[:200])
                assert took < ANSWER_WITHIN_S, f"{path}: {took:.1f} s"
                # one connect timeout (2 s), never two: the fast path's wait is not repeated by the view
                assert took < 3.5, f"{path}: {took:.1f} s"
    finally:
        dispose_engines(app)
