"""The scan page, GET /v/<token> (what every phone opens on a scan), against a bare
Flask page, both served by gunicorn with the same settings on 127.0.0.1, measured in
one run with wrk.

    .venv/bin/python bench/scan_page.py [--seconds 5] [--rounds 4] [--connections 32]
        [--gunicorn "SETTINGS"] [--database URL] [--redis URL] [--flask-view] [--before DIR]

Servers, measured in alternating rounds (a, b, c, c, b, a, ...) so that the machine's
other load weighs on all alike; each figure is the median over the rounds, with the
worst round's p99 beside it:

- ``bare``: ``bench/bare_app.py``'s ``/v/<token>``, a fixed HTML page of the scan
  page's size, no database, no crypto, no template;
- ``page``: this checkout's app, the way it serves a scan;
- ``view`` (--flask-view): the same app with VERIFY_FAST_PATH=false, the request
  through Flask's view;
- ``before`` (--before DIR): the app of another checkout (say ``git worktree add
  /tmp/main main``), on the same database, so before and after come from one run.

Beside each server's req/s, the CPU time its gunicorn processes spent per request
(from /proc, over the rounds): on a machine that others share, throughput follows the
scheduler, while CPU per request follows the code; bare/this is the ratio of the two.

Every page server must answer the demo card ``valid`` and, with --before, the same
bytes as this checkout (the page's "checked at" minute aside). --database takes an
empty database (the demo names the port of the run that made it); --redis puts the
rate limits in Redis (RATELIMIT_ENABLED=true), as several instances would run.
Needs wrk (Debian package ``wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.verify_bench import MASTER_B64, ROOT, VENV_BIN, free_port, over_rounds, wait_up, wrk

DEFAULT_SETTINGS = "--workers 2 --worker-class gthread --threads 1"
CHECKED_AT = re.compile(rb'<p class="verdict-time">[^<]*</p>')
LABELS = {
    "bare": "bare Flask page",
    "page": "/v/<token>",
    "view": "  (the Flask view)",
    "before": "  (before: --before)",
}


def gunicorn(settings: str, app_spec: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), *settings.split(), "--log-level=warning", f"--bind=127.0.0.1:{port}", app_spec],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(cwd)},
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of gunicorn's master ``pid`` and its workers so far."""
    pids = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        pids.extend(int(child) for child in children.read_text().split())
    ticks = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def page_of(url: str) -> bytes:
    with urllib.request.urlopen(url) as resp:
        body: bytes = resp.read()
    return body


def measure(token: str, port_app: int, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Every server up with the same settings; alternating wrk rounds; medians."""
    path = f"/v/{token}"
    ports = {"bare": free_port(), "page": port_app}
    servers = [
        gunicorn(args.gunicorn, "bench.bare_app:create_app()", ports["bare"], env, ROOT),
        gunicorn(args.gunicorn, "app:create_app()", port_app, env, ROOT),
    ]
    if args.flask_view:
        ports["view"] = free_port()
        servers.append(
            gunicorn(args.gunicorn, "app:create_app()", ports["view"], {**env, "VERIFY_FAST_PATH": "false"}, ROOT)
        )
    if args.before:
        ports["before"] = free_port()
        servers.append(gunicorn(args.gunicorn, "app:create_app()", ports["before"], env, Path(args.before)))
    targets = {name: f"http://127.0.0.1:{port}{path}" for name, port in ports.items()}
    pids = dict(zip(ports, (server.pid for server in servers), strict=True))
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    try:
        for url in targets.values():
            wait_up(url)
        mine = CHECKED_AT.sub(b"", page_of(targets["page"]))
        if b'data-verdict="valid"' not in mine:
            raise SystemExit("the demo card's page is not valid (with --database, give an empty database)")
        for name in targets.keys() - {"bare", "page"}:
            if CHECKED_AT.sub(b"", page_of(targets[name])) != mine:
                raise SystemExit(f"the {name} server's page differs from this checkout's")
        for url in targets.values():
            wrk(url, 2, args.connections)  # warm up: imports, pools, caches
        names = list(targets)
        for i in range(args.rounds):
            for name in names if i % 2 == 0 else reversed(names):
                cpu = cpu_seconds(pids[name])
                result = wrk(targets[name], args.seconds, args.connections)
                result["cpu_ms"] = (cpu_seconds(pids[name]) - cpu) * 1000 / (result["rps"] * args.seconds)
                rounds[name].append(result)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    summary: dict[str, Any] = {"settings": args.gunicorn, "page_bytes": len(mine)}
    for name, results in rounds.items():
        summary[name] = {**over_rounds(results), "cpu_ms": statistics.median(r["cpu_ms"] for r in results)}
    for name in rounds:
        summary[name]["ratio"] = summary[name]["rps"] / summary["bare"]["rps"]
        summary[name]["cpu_ratio"] = summary["bare"]["cpu_ms"] / summary[name]["cpu_ms"]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--gunicorn", default=DEFAULT_SETTINGS, help="gunicorn settings, the same for every server")
    parser.add_argument("--database", help="an empty database (default: a fresh SQLite file)")
    parser.add_argument("--redis", help="rate-limit storage, e.g. redis://127.0.0.1:6379/7 (limits on)")
    parser.add_argument("--flask-view", action="store_true", help="measure VERIFY_FAST_PATH=false too")
    parser.add_argument("--before", help="a checkout of the code to compare with, served in the same rounds")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON too")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="chinhdanh-scan-"))
    port_app = free_port()  # the issuer in the demo token
    env = {
        **os.environ,
        "CHINHDANH_INSTANCE": str(tmp / "instance"),
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "bench",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port_app}",
        "RATELIMIT_ENABLED": "true" if args.redis else "false",
        "RATELIMIT_STORAGE_URI": args.redis or "memory://",
        "DATABASE_URL": args.database or f"sqlite:///{tmp / 'bench.sqlite3'}",
    }
    demo = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", "demo", "--json"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    token = json.loads(demo.stdout.strip().splitlines()[-1])["url"].rsplit("/v/", 1)[1]
    summary = measure(token, port_app, env, args)
    db_kind = env["DATABASE_URL"].split(":")[0]
    limits = f"limits in {args.redis}" if args.redis else "limits off"
    print(
        f"gunicorn {args.gunicorn}; wrk -t2 -c{args.connections}, {args.rounds} rounds of {args.seconds} s each, "
        f"alternating; database {db_kind}; {limits}; page {summary['page_bytes']} bytes"
    )
    for name, label in LABELS.items():
        if name not in summary:
            continue
        r = summary[name]
        print(
            f"  {label:22} {r['rps']:7.0f} req/s   p50 {r['p50_ms']:6.2f} ms   p99 {r['p99_ms']:6.2f} ms "
            f"(worst round {r['worst_p99_ms']:6.2f})   ratio {r['ratio']:.2f}   "
            f"server CPU {r['cpu_ms']:.3f} ms/request (bare/this {r['cpu_ratio']:.2f})   non-2xx {int(r['non_2xx'])}   "
            f"socket errors {', '.join(r['socket_errors'])}",
            flush=True,
        )
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
