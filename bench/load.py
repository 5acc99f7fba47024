"""Load figures of the production set-up: two app instances behind the nginx of
deploy/ (deploy/stack.py: TLS on loopback, the deploy site rendered as is) on
PostgreSQL and Redis, and bare Flask (bench/bare_app.py) behind the same nginx in the
same run, each measured with wrk.

    .venv/bin/python bench/load.py --database postgresql+psycopg://postgres@127.0.0.1:5432/NAME \\
        --redis redis://127.0.0.1:6379/0 [--seconds 30] [--connections 64] [--workers 2] [--quick] [--json FILE]

Targets: the verify API (GET /api/v1/verify?token=), the scan page (GET /v/<token>),
the lookup API (GET /api/v1/lookup?q=), the report API (POST /api/v1/reports, a wrk
Lua script) and the bare endpoint; bare Flask is measured first and last, and each
figure is given beside the mean of the two. The database given is never written: a
scratch database ``<NAME>_load`` beside it is made afresh (migrations and demo data,
its tokens naming this run's nginx). Per-address rate limits are off for the run
(RATELIMIT_ENABLED=false, as the configuration allows for load runs; the live-code
lockouts stay on): every request comes from 127.0.0.1, so with them on the run would
measure the limiter's 429s, not the app. Workers are not recycled during the run
(GUNICORN_MAX_REQUESTS=0). It prints requests/s, p50, p99, the errors (non-2xx
answers and socket errors must both be 0, else it says so and exits 1) and each
gunicorn worker's peak memory (VmHWM). --quick: 3 s per target, to try it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bench.verify_bench import VENV_BIN, wrk  # noqa: E402
from deploy.stack import Backend, Stack, app_env, nginx_available  # noqa: E402
from registry.platform.db import make_engine  # noqa: E402

REPORT = {
    "channel": "phone",
    "claimed_name": "Nguyễn Văn Đức",
    "staff_code": "TTTT-999",
    "phone": "0987 654 321",
    "request_text": "Đề nghị chuyển 5.000.000 đồng phí đăng bài.",
    "reporter_agency": "Sở Nội vụ tỉnh Hà Tĩnh",
    "reporter_contact": "Trần Thị Lan, 0239 385 5555",
}


def scratch_database(url: str) -> str:
    """``<name>_load`` beside ``url``'s database, dropped and made anew."""
    base = make_url(url)
    name = f"{base.database}_load"
    admin = make_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def report_script(folder: Path) -> Path:
    script = folder / "report.lua"
    body = json.dumps(REPORT, ensure_ascii=False).replace("\\", "\\\\").replace("'", "\\'")
    script.write_text(
        f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = \'{body}\'\n',
        encoding="utf-8",
    )
    return script


def peak_memory_mb(pid: int) -> float:
    """A process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workers(stack: Stack) -> list[tuple[str, int, int]]:
    """(backend, instance port, worker pid) of every gunicorn worker of the stack."""
    return [
        (backend.name, port, child.pid)
        for backend in stack.backends
        for port in backend.ports
        for child in psutil.Process(stack.servers[port].pid).children()
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, help="a PostgreSQL URL; the run uses <its name>_load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--quick", action="store_true", help="3 s per target: to try the script")
    parser.add_argument("--json", type=Path, help="write the figures there too")
    args = parser.parse_args()
    seconds = 3 if args.quick else args.seconds
    if not nginx_available():
        raise SystemExit("nginx is needed: apt-get install nginx")
    if not Path("/usr/bin/wrk").exists():
        raise SystemExit("wrk is needed: apt-get install wrk")

    database = scratch_database(args.database)
    no_recycling = {"GUNICORN_MAX_REQUESTS": "0"}
    app = Backend(name="chinhdanh", instances=2, workers=args.workers)
    bare = Backend(
        name="bare",
        app_spec="bench.bare_app:create_app()",
        instances=2,
        workers=args.workers,
        ready_path="/api/v1/verify",
        env=no_recycling,
    )
    stack = Stack([app, bare])
    app.env = {
        **app_env(database_url=database, redis_url=args.redis, public_base_url=app.url, RATELIMIT_ENABLED="false"),
        **no_recycling,
    }
    demo = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", "demo", "--json"],
        cwd=ROOT,
        env={**os.environ, **app.env, "CHINHDANH_INSTANCE": str(stack.prefix / "demo-instance")},
        capture_output=True,
        text=True,
        check=True,
    )
    token = json.loads(demo.stdout.strip().splitlines()[-1])["url"].rsplit("/v/", 1)[1]
    query = urllib.parse.urlencode({"token": token})
    script = report_script(stack.prefix)
    targets: list[tuple[str, str, Path | None]] = [
        ("bare Flask (before)", f"{bare.url}/api/v1/verify", None),
        ("verify API", f"{app.url}/api/v1/verify?{query}", None),
        ("scan page /v/<token>", f"{app.url}/v/{token}", None),
        ("lookup API", f"{app.url}/api/v1/lookup?q=TTTT-001", None),
        ("report API (POST)", f"{app.url}/api/v1/reports", script),
        ("bare Flask (after)", f"{bare.url}/api/v1/verify", None),
    ]
    results: dict[str, dict[str, Any]] = {}
    with stack:
        for name, url, lua in targets:
            wrk(url, 2 if not args.quick else 1, min(args.connections, 8), lua)  # warm up: imports, pools
            results[name] = wrk(url, seconds, args.connections, lua)
        memory = [(b, port, pid, peak_memory_mb(pid)) for b, port, pid in workers(stack)]

    bare_rps = (results["bare Flask (before)"]["rps"] + results["bare Flask (after)"]["rps"]) / 2
    print(
        f"{'(QUICK: ' + str(seconds) + ' s per target, not the figures) ' if args.quick else ''}"
        f"wrk -c{args.connections} -d{seconds}s over TLS through nginx; 2 instances x {args.workers} sync workers "
        f"(deploy/gunicorn.conf.py) per backend; PostgreSQL + Redis; per-address limits off"
    )
    print("| target | req/s | × bare | p50 ms | p99 ms | non-2xx | socket errors |\n|---|---|---|---|---|---|---|")
    failures = []
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:.0f} | {r['rps'] / bare_rps:.2f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
            f"| {int(r['non_2xx'])} | {r['socket_errors']} |"
        )
        if r["non_2xx"] or r["socket_errors"] != "none":
            failures.append(name)
    print("\n| backend | instance | worker pid | peak memory (VmHWM) |\n|---|---|---|---|")
    for b, port, pid, mb in memory:
        print(f"| {b} | 127.0.0.1:{port} | {pid} | {mb:.1f} MB |")
    if args.json:
        args.json.write_text(json.dumps({"seconds": seconds, "results": results, "memory": memory}, indent=2))
    if failures:
        print(f"\nERRORS: {', '.join(failures)} had non-2xx answers or socket errors: these figures are not valid")
        return 1
    print("\nzero errors: every answer 2xx, no socket errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
