"""GET /api/v1/verify answered below Flask: the service's busiest request, the one
every QR scan and every agency's system makes.

Flask's request machinery (request and app contexts, URL matching, the rate
limiter's and the other extensions' hooks) costs more than the verification itself
(BENCHMARKS.md). This WSGI middleware answers the plain case, a GET carrying
``token`` and perhaps ``agency`` and ``expect``, with the same verification
(``verify_on``), the same JSON (``result_json``), the same headers and the same clock
as the Flask view. Everything else goes on to Flask untouched: other paths and methods, any other
query parameter (``lang`` sets a cookie there), a cookie or a body, a token the view
refuses with 413, an ``expect`` it refuses with 400, and any failure here, so errors
keep one shape; a database that made the fast path wait a connect timeout is handed on
marked as down, so that Flask answers its 503 without waiting a second time.
The fast-path tests hold the two paths to the same answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  # registers the "werkzeug.url_quote" codec error handler Flask parses with
from flask import Flask

from keys.contract import VERIFY_API_PATH
from registry.alerts.service import check_insert
from registry.platform.clock import clock_of
from registry.platform.db import read_engine
from registry.platform.errors import DATABASE_DOWN_ENVIRON, UNAVAILABLE
from verify.core.agency import MAX_AGENCY_INPUT
from verify.verification.answers import result_json
from verify.verification.service import EXPECT_TYPS, MAX_TOKEN_FIELD, expect_value, verify_on
from verify.verification.views import OWN_ORIGIN

log = logging.getLogger("chinhdanh.fastpath")
# A database failure that took this long was a connect timeout, not a dropped
# connection: trying again in the view would double the wait past the 5 s answer.
SLOW_FAILURE_S = 1.0

PATH = VERIFY_API_PATH
PARAMS = frozenset({"token", "agency", "expect"})
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def plain_query(environ: dict[str, Any], names: frozenset[str]) -> dict[str, str] | None:
    """The query parameters of a GET with no body, the first value of each as Flask
    reads them, when all are among ``names`` and ``expect`` (if given) is one the
    views accept; None otherwise (Flask answers)."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("CONTENT_TYPE"):
        return None
    if environ.get("CONTENT_LENGTH") not in (None, "", "0"):
        return None
    query = environ.get("QUERY_STRING", "")
    if not query.isascii():  # raw non-ASCII bytes: Flask decides what they mean
        return None
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"):
        if name not in names:
            return None
        params.setdefault(name, value)
    if expect_value(params.get("expect", "")) is None:
        return None  # the views' 400
    return params


def query_params(environ: dict[str, Any]) -> dict[str, str] | None:
    """``token``, ``agency`` and ``expect`` as the Flask view reads them (the first
    value of each), or None when the request is not the plain case."""
    if environ.get("PATH_INFO") != PATH or environ.get("HTTP_COOKIE"):
        return None
    params = plain_query(environ, PARAMS)
    if params is None or len(params.get("token", "")) > MAX_TOKEN_FIELD:
        return None  # the view's 413
    params["expect"] = expect_value(params.get("expect", "")) or ""
    return params


class FastVerify:
    """WSGI middleware in front of ``app.wsgi_app``: see the module docstring."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp, security_headers: list[tuple[str, str]]) -> None:
        self.next = wsgi_app
        self.engine = read_engine(app)
        self.clock = clock_of(app)
        self.issuer = str(app.config["PUBLIC_BASE_URL"])
        self.own_origin = str(app.extensions[OWN_ORIGIN])
        self.dumps = app.json.dumps
        self.headers = [("Content-Type", "application/json"), *security_headers]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        params = query_params(environ)
        if params is None:
            return self.next(environ, start_response)
        started = time.monotonic()
        try:
            body = self.answer(params)
        except UNAVAILABLE as exc:
            if time.monotonic() - started >= SLOW_FAILURE_S:  # no second wait: Flask answers the 503 at once
                log.warning("verification fast path: database unavailable (%s)", type(exc).__name__)
                environ[DATABASE_DOWN_ENVIRON] = exc
            else:  # a quick failure (a dropped connection) gets the view's second chance
                log.warning("verification fast path failed (%s); answering through Flask", type(exc).__name__)
            return self.next(environ, start_response)
        except Exception as exc:  # the Flask view answers it, or gives the one error shape
            log.warning("verification fast path failed (%s); answering through Flask", type(exc).__name__)
            return self.next(environ, start_response)
        start_response("200 OK", [*self.headers, ("Content-Length", str(len(body)))])
        return [body]

    def answer(self, params: dict[str, str]) -> bytes:
        result = verify_on(
            self.engine,
            params.get("token", ""),
            issuer=self.issuer,
            own_origin=self.own_origin,
            now=self.clock(),
            typs=EXPECT_TYPS[params["expect"]],
            agency=params.get("agency", "")[:MAX_AGENCY_INPUT],  # as the view's _agency_param
        )
        if result.credential is not None:  # a named agency's check, for the holder's digest
            noted = check_insert(
                staff_code=result.credential.staff.code,
                credential_id=result.credential.id,
                agency=params.get("agency", ""),
                verdict=result.verdict.value,
                at=result.checked_at,
            )
            if noted is not None:
                with self.engine.connect() as conn:
                    conn.execute(noted)
        text = self.dumps(result_json(result, self.issuer), separators=(",", ":"))
        return f"{text}\n".encode()
