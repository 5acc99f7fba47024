"""Throughput and latency of GET /api/v1/verify against a bare Flask endpoint, both
served by gunicorn with the same settings on 127.0.0.1, measured in one run with wrk.

    .venv/bin/python bench/verify_bench.py [--seconds 15] [--connections 32] [--database URL]

Needs wrk (Debian package `wrk`). Without --database it uses a fresh SQLite file
(the embedded default) filled by `flask demo`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
GUNICORN_SETTINGS = os.environ.get(
    "BENCH_GUNICORN", "--workers 2 --worker-class gthread --threads 4 --log-level warning"
).split()
MASTER_B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def gunicorn(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), *GUNICORN_SETTINGS, "--bind", f"127.0.0.1:{port}", app_spec],
        cwd=ROOT,
        env=env,
    )


def wrk(url: str, seconds: int, connections: int) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            raise SystemExit(f"could not read {label}% from wrk:\n{out}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="chinhdanh-bench-"))
    port_app, port_bare = free_port(), free_port()
    env = {
        **os.environ,
        "CHINHDANH_INSTANCE": str(tmp / "instance"),
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "bench",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port_app}",
        "RATELIMIT_ENABLED": "false",
        "DATABASE_URL": args.database or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    demo = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", "demo", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    url = json.loads(demo.stdout.strip().splitlines()[-1])["url"]
    token = url.rsplit("/v/", 1)[1]
    servers = [gunicorn("app:create_app()", port_app, env), gunicorn("bench.bare_app:create_app()", port_bare, env)]
    try:
        query = "/api/v1/verify?" + urllib.parse.urlencode({"token": token})
        target_app, target_bare = f"http://127.0.0.1:{port_app}{query}", f"http://127.0.0.1:{port_bare}{query}"
        wait_up(target_app)
        wait_up(target_bare)
        with urllib.request.urlopen(target_app) as resp:
            assert json.loads(resp.read())["verdict"] == "valid"
        wrk(target_app, 3, args.connections)  # warm both up: imports, pools, caches
        wrk(target_bare, 3, args.connections)
        bare = wrk(target_bare, args.seconds, args.connections)
        real = wrk(target_app, args.seconds, args.connections)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    db_kind = env["DATABASE_URL"].split(":")[0]
    print(f"gunicorn {' '.join(GUNICORN_SETTINGS)}; wrk -t2 -c{args.connections} -d{args.seconds}s; database {db_kind}")
    for name, r in (("bare Flask endpoint", bare), ("/api/v1/verify", real)):
        print(
            f"{name:22} {r['rps']:8.0f} req/s   p50 {r['p50_ms']:6.2f} ms   p99 {r['p99_ms']:6.2f} ms   "
            f"non-2xx {int(r['non_2xx'])}   socket errors {r['socket_errors']}"
        )
    print(f"ratio verify/bare: {real['rps'] / bare['rps']:.2f}")


if __name__ == "__main__":
    main()
