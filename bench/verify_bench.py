"""Throughput and latency of GET /api/v1/verify against a bare Flask endpoint, both
served by gunicorn with the same settings on 127.0.0.1, measured in one run with wrk.

    .venv/bin/python bench/verify_bench.py [--seconds 5] [--rounds 4] [--connections 32]
        [--gunicorn "SETTINGS"]... [--database URL] [--flask-view]

The two servers are measured in alternating rounds (bare, verify, verify, bare, ...)
so that a change in the machine's other load weighs on both alike; each figure is
the median over the rounds, and the worst round's p99 is printed beside it.
--flask-view adds a third server, the same app with VERIFY_FAST_PATH=false, to the
same rounds: the request through Flask's view instead of verify/verification/fastpath.py. Without
--gunicorn it measures two settings: one thread per worker (the honest comparison:
the bare endpoint is not held back by the GIL) and four threads per worker. Needs
wrk (Debian package `wrk`). Without --database it uses a fresh SQLite file (the
embedded default) filled by `flask demo`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
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
DEFAULT_SETTINGS = (
    "--workers 2 --worker-class gthread --threads 1",
    "--workers 2 --worker-class gthread --threads 4",
)
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


def gunicorn(settings: str, app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), *settings.split(), "--log-level=warning", f"--bind=127.0.0.1:{port}", app_spec],
        cwd=ROOT,
        env=env,
    )


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict[str, Any]:
    """One wrk run against ``url`` (``script``: a Lua file, e.g. for a POST)."""
    lua = ["-s", str(script)] if script else []
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "5s",
            *lua,
            url,
        ],
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


def measure(settings: str, token: str, port_app: int, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Both servers up with ``settings``; alternating wrk rounds; medians."""
    port_bare = free_port()
    servers = [
        gunicorn(settings, "app:create_app()", port_app, env),
        gunicorn(settings, "bench.bare_app:create_app()", port_bare, env),
    ]
    query = "/api/v1/verify?" + urllib.parse.urlencode({"token": token})
    targets = {"bare": f"http://127.0.0.1:{port_bare}{query}", "verify": f"http://127.0.0.1:{port_app}{query}"}
    if args.flask_view:  # the same app with the fast path off: what verify/verification/fastpath.py brings
        port_view = free_port()
        servers.append(gunicorn(settings, "app:create_app()", port_view, {**env, "VERIFY_FAST_PATH": "false"}))
        targets["view"] = f"http://127.0.0.1:{port_view}{query}"
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    try:
        for url in targets.values():
            wait_up(url)
        for name in targets.keys() - {"bare"}:
            with urllib.request.urlopen(targets[name]) as resp:
                verdict = json.loads(resp.read())["verdict"]
            if verdict != "valid":  # the whole path or nothing: query, signature, answer
                raise SystemExit(
                    f"the demo token answers {verdict}, not valid (with --database, give an empty database: "
                    "demo data names the port of the run that made it)"
                )
        for url in targets.values():
            wrk(url, 2, args.connections)  # warm up: imports, pools, caches
        names = list(targets)
        for i in range(args.rounds):
            for name in names if i % 2 == 0 else reversed(names):
                rounds[name].append(wrk(targets[name], args.seconds, args.connections))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    summary: dict[str, Any] = {"settings": settings}
    for name, results in rounds.items():
        summary[name] = over_rounds(results)
    summary["ratio"] = summary["verify"]["rps"] / summary["bare"]["rps"]
    if "view" in summary:
        summary["ratio_view"] = summary["view"]["rps"] / summary["bare"]["rps"]
    return summary


def over_rounds(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One server's wrk rounds summed up: medians, the worst p99, every error."""
    return {
        "rps": statistics.median(r["rps"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "worst_p99_ms": max(r["p99_ms"] for r in results),
        "non_2xx": sum(r["non_2xx"] for r in results),
        "socket_errors": sorted({r["socket_errors"] for r in results}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per server and setting")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--gunicorn", action="append", help="gunicorn settings (repeatable)")
    parser.add_argument("--database")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON too")
    parser.add_argument("--flask-view", action="store_true", help="measure the Flask view too (VERIFY_FAST_PATH=false)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="chinhdanh-bench-"))
    port_app = free_port()  # the issuer in the demo token; every setting serves the app here
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
    token = json.loads(demo.stdout.strip().splitlines()[-1])["url"].rsplit("/v/", 1)[1]
    db_kind = env["DATABASE_URL"].split(":")[0]
    summaries = []
    for settings in args.gunicorn or DEFAULT_SETTINGS:
        summary = measure(settings, token, port_app, env, args)
        summaries.append(summary)
        print(
            f"gunicorn {settings}; wrk -t2 -c{args.connections}, {args.rounds} rounds of {args.seconds} s "
            f"each, alternating; database {db_kind}"
        )
        labels = (("bare", "bare Flask endpoint"), ("verify", "/api/v1/verify"), ("view", "  (the Flask view)"))
        for name, label in labels:
            if name not in summary:
                continue
            r = summary[name]
            print(
                f"  {label:20} {r['rps']:7.0f} req/s   p50 {r['p50_ms']:6.2f} ms   p99 {r['p99_ms']:6.2f} ms "
                f"(worst round {r['worst_p99_ms']:6.2f})   non-2xx {int(r['non_2xx'])}   "
                f"socket errors {', '.join(r['socket_errors'])}"
            )
        print(f"  ratio verify/bare: {summary['ratio']:.2f}", flush=True)
        if "ratio_view" in summary:
            print(f"  ratio Flask view/bare: {summary['ratio_view']:.2f}", flush=True)
    if args.json:
        print(json.dumps(summaries))


if __name__ == "__main__":
    main()
