"""What the service counts for Prometheus, and the timing of every request.

The counters are prometheus-client's, kept in this module's own registry. Under
gunicorn each worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set
(deploy/gunicorn.conf.py sets it before any worker imports this) prometheus-client
writes every count to a memory-mapped file in that folder, and ``/metrics``
(``registry.platform.metrics_view``) adds up the files of every worker, the dead ones
included (gunicorn's ``child_exit`` hook marks them dead, which drops their gauges only).

``RequestTimer`` wraps the whole WSGI application, the verification fast path
included: one clock read before, one after, a histogram observation and a counter,
labelled by the route's template (``/v/<token>``), never by the raw path, so that
neither tokens nor random URLs become labels. With ``LOG_FORMAT=json`` it also writes
the access line (``registry.platform.logs``).
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask, request
from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)  # single-process mode; multiprocess reads the files

VERIFICATIONS = Counter(
    "chinhdanh_verifications",
    "Verifications answered, by verdict and by path (page, api, photo)",
    ["verdict", "path"],
    registry=REGISTRY,
)
LOOKUPS = Counter("chinhdanh_lookups", "Lookups answered, by result", ["result"], registry=REGISTRY)
LIVE_CODE_CHECKS = Counter(
    "chinhdanh_live_code_checks", "Live-code checks answered, by outcome", ["outcome"], registry=REGISTRY
)
REPORTS = Counter(
    "chinhdanh_reports_received", "Impersonation reports stored, by source", ["source"], registry=REGISTRY
)
RECEIPTS = Counter(
    "chinhdanh_receipts", "Verification receipts signed (API or PDF), by verdict", ["verdict"], registry=REGISTRY
)
CLIENT_DOCUMENTS = Counter(
    "chinhdanh_client_documents",
    "Documents served to offline clients (jwks, keyset, status_list, roster, root_key)",
    ["document"],
    registry=REGISTRY,
)
REQUESTS = Counter(
    "chinhdanh_http_requests",
    "HTTP responses, by route template, method and status",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "chinhdanh_http_request_duration_seconds",
    "Time to answer, by route template",
    ["route", "method"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # a 404 or a method no route has: one label, whatever the path
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # nginx's $request_id is 32 hex digits
access_log = logging.getLogger("chinhdanh.access")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


ROUTE_KEY = "chinhdanh.route"


def route_of(environ: dict[str, Any], fast_paths: frozenset[str]) -> str:
    """The template of the route that answered (``/v/<token>``): Flask's matched
    rule, or a path the fast path answers, or UNMATCHED."""
    rule = environ.get(ROUTE_KEY)
    if rule is not None:
        return str(rule)
    path = environ.get("PATH_INFO", "")
    return path if path in fast_paths else UNMATCHED


def init_app(app: Flask, *, fast_paths: frozenset[str], log_requests: bool) -> None:
    """Time every request of ``app``: call after every other WSGI middleware is in."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:  # prometheus-client writes each worker's counts there, and fails if it is missing
        Path(folder).mkdir(parents=True, exist_ok=True, mode=0o700)

    @app.url_value_preprocessor
    def _note_route(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
        # before any before_request hook, so a rate limiter's 429 is labelled too;
        # Flask clears its request object from the environ at the end, not this
        if request.url_rule is not None:
            request.environ[ROUTE_KEY] = request.url_rule.rule

    app.wsgi_app = RequestTimer(app.wsgi_app, fast_paths=fast_paths, log_requests=log_requests)  # type: ignore[method-assign]


def request_id(environ: dict[str, Any]) -> str:
    """The proxy's request id (``X-Request-ID``, set by deploy/nginx) when it has a
    sane shape, so that nginx's and the app's lines can be joined; else a new one."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class RequestTimer:
    """WSGI middleware, outermost: see the module docstring."""

    def __init__(self, wsgi_app: WSGIApp, *, fast_paths: frozenset[str], log_requests: bool) -> None:
        self.next = wsgi_app
        self.fast_paths = fast_paths
        self.log_requests = log_requests
        # bounded: route templates x methods x status codes
        self.children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def _start_response(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [code[:3]]
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        body = self.next(environ, _start_response)
        elapsed = time.perf_counter() - started
        route = route_of(environ, self.fast_paths)
        method = environ.get("REQUEST_METHOD", "")
        method = method if method in METHODS else "other"
        code = status[0] if status else "500"
        key = (route, method, code)
        children = self.children.get(key)
        if children is None:  # labels() takes a lock and builds a key: once per route, method, status
            children = self.children[key] = (LATENCY.labels(route, method), REQUESTS.labels(route, method, code))
        children[0].observe(elapsed)
        children[1].inc()
        if self.log_requests:
            access_log.info(
                "%s %s %s",
                method,
                route,
                code,
                extra={
                    "request_id": request_id(environ),
                    "method": method,
                    "route": route,
                    "status": int(code) if code.isdigit() else 0,
                    "duration_ms": round(elapsed * 1000, 2),
                    # the address the app trusts: ProxyFix put the proxy's answer here
                    "remote_addr": environ.get("REMOTE_ADDR", ""),
                },
            )
        return body
