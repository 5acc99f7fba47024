"""Acceptance 1: concurrent reports against real servers. 200 at once to gunicorn
(4 workers) on PostgreSQL, 50 at once to ``flask run`` on a SQLite file: every one
answers 201, every one is stored, references are distinct and without gaps."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from conftest import BASE_URL, MASTER_B64, ROOT, migrate
from helpers_reports import valid_report
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from registry.audit.chain import AuditContext
from registry.audit.service import verify_chain
from registry.outbox.models import OutboxMessage
from registry.platform.db import make_engine
from verify.reports.models import Report, ReportCounter

pytestmark = pytest.mark.slow

SERVER_START_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 60
VENV_BIN = ROOT / ".venv" / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(database_url: str, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WEBHOOK_URL", "WEBHOOK_SECRET", "CHINHDANH_ENV")}
    env.update(
        DATABASE_URL=database_url,
        CHINHDANH_MASTER_KEY=MASTER_B64,
        SECRET_KEY="concurrency-test-secret",
        RATELIMIT_ENABLED="false",
        CHINHDANH_INSTANCE=str(instance),
        PUBLIC_BASE_URL=BASE_URL,
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def running(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """Start a server, wait for /healthz, yield its URL, stop it (the whole group)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass  # not listening yet, or a worker still starting
            if time.monotonic() > deadline:
                pytest.fail(f"server did not start in {SERVER_START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def fire(url: str, n: int) -> tuple[list[int], list[str], float]:
    """n reports released at the same instant from n threads; (statuses, references, seconds)."""
    barrier = threading.Barrier(n)
    statuses: list[int] = [0] * n
    refs: list[str] = [""] * n

    def one(i: int) -> None:
        body = valid_report(claimed_name=f"Kẻ mạo danh số {i}", phone=f"09{i:08d}")
        barrier.wait()
        try:
            resp = requests.post(url + "/api/v1/reports", json=body, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException:
            statuses[i] = -1
            return
        statuses[i] = resp.status_code
        if resp.status_code == 201:
            refs[i] = resp.json()["reference"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    started = time.monotonic()
    for t in threads:
        t.join(REQUEST_TIMEOUT_S + 10)
    return statuses, refs, time.monotonic() - started


def check_stored(database_url: str, statuses: list[int], refs: list[str]) -> None:
    n = len(statuses)
    assert statuses == [201] * n, {s: statuses.count(s) for s in set(statuses)}
    assert len(set(refs)) == n
    seqs = sorted(int(r.rsplit("-", 1)[1]) for r in refs)
    assert seqs == list(range(seqs[0], seqs[0] + n))  # no gaps, no repeats
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Report)) == n
            assert sorted(conn.scalars(select(Report.reference))) == sorted(refs)
            reports_sent = select(func.count()).where(OutboxMessage.event == "report.created")
            assert conn.scalar(reports_sent) == n  # audit checkpoints join the outbox too
            assert conn.scalar(select(func.max(ReportCounter.last))) == seqs[-1]
        with Session(engine) as session:
            # concurrent intake never forks the audit chain
            chain = verify_chain(session, AuditContext.of(MasterKey.from_b64(MASTER_B64)))
            assert chain.ok, chain
            assert chain.entries >= n
    finally:
        engine.dispose()


def test_200_concurrent_reports_to_gunicorn_on_postgresql(app, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL pointing at PostgreSQL")
    port = _free_port()
    cmd = [str(VENV_BIN / "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{port}", "--timeout", "60", "app:create_app()"]
    with running(cmd, _server_env(database_url, tmp_path / "instance"), port, tmp_path / "gunicorn.log") as url:
        statuses, refs, seconds = fire(url, 200)
    print(f"\n200 concurrent reports, gunicorn -w 4, PostgreSQL: {seconds:.2f} s")
    check_stored(database_url, statuses, refs)


def test_50_concurrent_reports_to_flask_run_on_sqlite(tmp_path):
    # its own SQLite file, whatever database the rest of the suite uses
    database_url = f"sqlite:///{tmp_path / 'concurrency.sqlite3'}"
    migrate(database_url)
    port = _free_port()
    cmd = [str(VENV_BIN / "flask"), "--app", "app", "run", "--host", "127.0.0.1", "--port", str(port), "--with-threads"]
    with running(cmd, _server_env(database_url, tmp_path / "instance"), port, tmp_path / "flask.log") as url:
        statuses, refs, seconds = fire(url, 50)
    print(f"\n50 concurrent reports, flask run, SQLite: {seconds:.2f} s")
    check_stored(database_url, statuses, refs)
    assert [int(r.rsplit("-", 1)[1]) for r in sorted(refs)] == list(range(1, 51))
