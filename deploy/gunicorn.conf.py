"""gunicorn settings for one chinhdanh instance (``gunicorn -c deploy/gunicorn.conf.py
'app:create_app()'``), read from the environment so that one file serves every
instance (deploy/systemd/chinhdanh@.service starts one per port).

The app trusts the proxy's X-Forwarded-For (CHINHDANH_TRUSTED_PROXIES=1), so it must
be reachable only through that proxy: the bind is refused unless it is a loopback
address or a unix socket.

Every worker is a process of its own: prometheus-client's multiprocess mode keeps
each worker's counts in files of PROMETHEUS_MULTIPROC_DIR, set here before any
worker imports the app, emptied when the master starts (counts of a previous run
would be added otherwise) and told when a worker dies.
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Any

LOOPBACK_NAMES = ("localhost",)


def loopback_only(bind: str) -> str:
    """``bind`` itself when it is a unix socket or a loopback address; else refuse."""
    if bind.startswith("unix:"):
        return bind
    host = bind.rsplit(":", 1)[0].strip("[]") if ":" in bind else bind
    if host in LOOPBACK_NAMES:
        return bind
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(
            f"chinhdanh: refusing to bind {bind!r}: the app trusts its proxy's X-Forwarded-For, "
            "so it listens on loopback (127.0.0.1:PORT) or a unix socket (unix:/run/…) only"
        )
    return bind


bind = [loopback_only(os.environ.get("CHINHDANH_BIND", "127.0.0.1:8000"))]
# sync workers: each request holds one; the database pool is per worker
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # a worker stuck this long is killed and replaced
graceful_timeout = 20
keepalive = 5  # nginx keeps connections to the upstream open (deploy/nginx: keepalive)
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))  # a slow leak cannot grow for ever; 0: never
max_requests_jitter = max_requests // 10
limit_request_line = 8190  # a token is at most 8 KiB (MAX_PRESENTED_CHARS); nginx limits first
forwarded_allow_ips = "127.0.0.1,::1"  # gunicorn's own wsgi.url_scheme from the proxy only
accesslog = None  # the app writes its own access line (LOG_FORMAT=json), with route templates, not tokens
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "chinhdanh"

MULTIPROC_DIR = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    str(Path(os.environ.get("RUNTIME_DIRECTORY") or tempfile.gettempdir()) / f"chinhdanh-metrics-{os.getpid()}"),
)

# gunicorn's control socket (gunicornc) beside the instance's metrics, one per instance:
# its default, ~/.gunicorn/gunicorn.ctl, is one path for every instance the user runs
# (the second took the first's) and read-only under the unit's ProtectSystem=strict
control_socket = str(Path(MULTIPROC_DIR) / "gunicorn.ctl")


def on_starting(server: Any) -> None:
    """Start with no counts of a previous run (only prometheus-client's own files go)."""
    folder = Path(MULTIPROC_DIR)
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)  # the app makes it too (registry/platform/metrics.py)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker died: its live gauges no longer count (counters keep its totals)."""
    from prometheus_client import multiprocess  # imported late: after the folder is set

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
