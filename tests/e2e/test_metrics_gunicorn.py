"""/metrics under a real gunicorn with two workers (deploy/gunicorn.conf.py): the
verifications counted by each worker add up in one scrape, and stay counted after a
worker dies and is replaced (prometheus-client's multiprocess mode, child_exit)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from factories import BASE_URL, MASTER_B64, ROOT, add_person, issue
from prometheus_client.mmap_dict import MmapedDict
from test_metrics import samples

from deploy.stack import free_ports

pytestmark = pytest.mark.slow
TOKEN = "gunicorn-metrics-token"


@pytest.fixture()
def gunicorn_two_workers(database_url: str, tmp_path: Path, app: Any) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """gunicorn -w 2 with the deploy configuration, on the tests' database (``app``
    empties it afterwards); its metrics folder is tmp_path/metrics."""
    port = free_ports(1)[0]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CHINHDANH_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_LOGLEVEL": "warning",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "CHINHDANH_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": BASE_URL,
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "gunicorn-metrics-test-secret-key-0123456789",
        "RATELIMIT_ENABLED": "false",
        "METRICS_TOKEN": TOKEN,
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "app:create_app()"],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def workers_of(master: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def valid_api_count(url: str) -> float:
    resp = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert resp.status_code == 200
    key = ("chinhdanh_verifications_total", (("path", "api"), ("verdict", "valid")))
    return float(samples(resp.text).get(key, 0.0))


def test_counts_of_two_workers_add_up(
    gunicorn_two_workers: tuple[str, subprocess.Popen[bytes]],
    tmp_path: Path,
    session: Any,
    master: Any,
    signing_key: Any,
) -> None:
    url, proc = gunicorn_two_workers
    metrics_dir = tmp_path / "metrics"
    add_person(session)
    token = issue(session, master).token
    assert requests.get(f"{url}/metrics", timeout=10).status_code == 401

    def verify(_i: int) -> str:
        resp = requests.get(f"{url}/api/v1/verify", params={"token": token}, timeout=30)  # a connection each
        return str(resp.json()["verdict"])

    def counted_by() -> set[int]:
        """The workers that counted a verification (each keeps its counts in counter_<pid>.db)."""
        return {
            int(f.stem.split("_")[1])
            for f in metrics_dir.glob("counter_*.db")
            if any(
                key.startswith('["chinhdanh_verifications"') and value > 0
                for key, value, *_rest in MmapedDict.read_all_values_from_file(str(f))
            )
        }

    workers = workers_of(proc.pid)
    assert len(workers) == 2
    sent = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        # which worker accepts is the kernel's choice: each in turn is paused (SIGSTOP,
        # far shorter than gunicorn's 30 s timeout) so that the other answers a batch
        for paused in workers:
            os.kill(paused, signal.SIGSTOP)
            try:
                assert list(pool.map(verify, range(20))) == ["valid"] * 20
            finally:
                os.kill(paused, signal.SIGCONT)
            sent += 20
    assert counted_by() == set(workers)
    assert valid_api_count(url) == sent == 40  # one scrape adds both workers' counts
    # a worker dies: gunicorn replaces it and its counts are still there
    os.kill(workers[0], signal.SIGTERM)
    deadline = time.monotonic() + 30
    while workers[0] in workers_of(proc.pid) or len(workers_of(proc.pid)) < 2:
        assert time.monotonic() < deadline, "the worker was not replaced"
        time.sleep(0.2)
    assert valid_api_count(url) == sent
