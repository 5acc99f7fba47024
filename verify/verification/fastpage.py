"""GET /v/<token> answered below Flask: the scan page, what every phone opens when it
scans a card's QR code.

As for the verify API (``verify.verification.fastpath``), Flask's request machinery
cost more than the verification; the page's template, through Flask-Babel, more
again (BENCHMARKS.md, "The scan page"). This WSGI middleware answers the plain
scan, a GET of ``/v/<token>`` carrying perhaps ``agency`` and ``expect`` and perhaps
the ``lang`` cookie, with the same verification (``verify_on``, every request: no
verdict is kept), the same page (``verify.verification.page``: the same template,
the same words) and the same headers as the Flask view. Everything else goes on to
Flask untouched: another path or method, a ``lang`` parameter (Flask sets the
cookie), any other parameter or cookie (a console session), a body, an ``Accept``
that asks for JSON, a SCRIPT_NAME, and any failure here, so errors keep one shape;
every scan, when the configuration binds Flask to a host name or an application root.
The fast-page tests hold the two paths to the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from sqlalchemy import Connection
from werkzeug.http import parse_cookie

from keys.contract import VERIFY_PREFIX
from registry.alerts.service import check_insert
from registry.platform.clock import clock_of
from registry.platform.db import read_engine, read_with_retry
from registry.platform.metrics import ROUTE_KEY, VERIFICATIONS
from registry.platform.web import language_of, prefers_json
from registry.queries import VerificationRead
from verify.core.agency import MAX_AGENCY_INPUT, agency_matcher
from verify.verification.fastpath import WSGIApp, hand_over, plain_query
from verify.verification.page import VerdictPage
from verify.verification.service import EXPECT_TYPS, Result, expect_value, verify_read
from verify.verification.views import OWN_ORIGIN
from verify.warnings.service import STAFF_WARNED, WarningRef, warnings_naming_staff

PARAMS = frozenset({"agency", "expect"})
SCAN_ROUTE = f"{VERIFY_PREFIX}<token>"
LANG_COOKIE = "lang"
HOST_BOUND = ("SERVER_NAME", "TRUSTED_HOSTS")  # settings (instance/config.py) that leave every scan to Flask
WARNED_READ = VerificationRead(STAFF_WARNED)  # the verification's round trip, and: is the holder warned about?


def plain_scan(environ: dict[str, Any]) -> tuple[str, dict[str, str], str] | None:
    """The token, the query parameters and the page's language of a plain scan, or
    None when Flask must answer."""
    path = environ.get("PATH_INFO", "")
    if not path.startswith(VERIFY_PREFIX) or environ.get("SCRIPT_NAME"):
        return None
    token = path[len(VERIFY_PREFIX) :]
    if not token or "/" in token or not token.isascii():  # another route, a 404, or bytes Flask decodes
        return None
    if prefers_json(environ.get("HTTP_ACCEPT")):
        return None
    lang = None
    if cookie_header := environ.get("HTTP_COOKIE"):
        cookies = parse_cookie(cookie_header)
        if set(cookies) - {LANG_COOKIE}:
            return None  # a session cookie: Flask may refresh it
        lang = cookies.get(LANG_COOKIE)
    params = plain_query(environ, PARAMS)
    if params is None:
        return None
    return token, params, language_of(lang)


class FastPage:
    """WSGI middleware in front of Flask (behind the verify API's fast path): see the
    module docstring."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp, security_headers: list[tuple[str, str]]) -> None:
        self.next = wsgi_app
        self.page = VerdictPage(app)
        self.engine = read_engine(app)
        self.clock = clock_of(app)
        self.issuer = str(app.config["PUBLIC_BASE_URL"])
        self.own_origin = str(app.extensions[OWN_ORIGIN])
        self.headers = security_headers
        # Flask would check the Host header, or link static files under another root
        self.serves = not any(app.config.get(key) for key in HOST_BOUND) and app.config["APPLICATION_ROOT"] == "/"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scan = plain_scan(environ) if self.serves else None
        if scan is None:
            return self.next(environ, start_response)
        started = time.monotonic()
        try:
            body = self.answer(*scan)
        except Exception as exc:  # the Flask view answers it, or gives the one error shape
            hand_over(environ, exc, started, "scan page fast path")
            return self.next(environ, start_response)
        environ[ROUTE_KEY] = SCAN_ROUTE  # the request timer's label, as Flask's rule would give it
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))), *self.headers]
        start_response("200 OK", headers)
        return [body]

    def answer(self, token: str, params: dict[str, str], lang: str) -> bytes:
        now = self.clock()
        agency = params.get("agency", "")
        agency_matches = agency_matcher(agency[:MAX_AGENCY_INPUT])  # as the view's _agency_param

        def read(conn: Connection) -> tuple[Result, tuple[WarningRef, ...]]:
            """The verification (as ``verify_on``), asking in its round trip whether a
            public warning names the card's holder; then, on the same connection, the
            warnings, when one does."""
            result = verify_read(
                conn,
                token,
                issuer=self.issuer,
                own_origin=self.own_origin,
                now=now,
                typs=EXPECT_TYPS[expect_value(params.get("expect", "")) or ""],
                agency_matches=agency_matches,
                read=WARNED_READ,
            )
            staff = result.credential.staff if result.credential is not None else None
            if staff is None or not any(result.extra):
                return result, ()
            return result, warnings_naming_staff(conn, staff.code, phone=staff.phone, email=staff.email)

        result, warned = read_with_retry(self.engine, read)
        VERIFICATIONS.labels(result.verdict.value, "page").inc()
        if result.credential is not None:
            noted = check_insert(  # a named agency's check, for the holder's digest
                staff_code=result.credential.staff.code,
                credential_id=result.credential.id,
                agency=agency,
                verdict=result.verdict.value,
                at=result.checked_at,
            )
            if noted is not None:
                with self.engine.connect() as conn:
                    conn.execute(noted)
        return self.page.render(result, lang, params, receipt_token=token, public_warnings=warned).encode()
