"""GET /api/v1/verify answered below Flask (verify/verification/fastpath.py) gives exactly what the
Flask view gives: the same status, headers and JSON for every verdict, and every
request outside the plain case still goes to the view."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from factories import BASE_URL, NOW, app_config, count_views
from flask import Flask
from helpers_client import every_state
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.test import TestResponse

from app import create_app
from keys.crypto import MasterKey
from keys.errors import KeysError
from keys.jose import b64url_decode
from registry import queries
from registry.platform.db import dispose_engines, read_with_retry
from registry.platform.metrics import RequestTimer
from registry.platform.prepared import PreparedRead
from registry.staff.photos import set_photo
from registry.staff.service import get_staff
from verify.verification.fastpage import WARNED_READ
from verify.verification.fastpath import FastVerify

VIEW = "verify.api_verify"


@contextmanager
def both_paths(database_url: str, tmp_path: Path, **config: Any) -> Iterator[tuple[Flask, Flask]]:
    """The service with ``config``, with the fast path on and off, on one database."""
    apps = tuple(
        create_app(app_config(database_url, tmp_path / f"fast-{fast}", VERIFY_FAST_PATH=fast, **config))
        for fast in (True, False)
    )
    try:
        yield apps[0], apps[1]
    finally:
        for application in apps:
            dispose_engines(application)


@pytest.fixture()
def view_calls(app: Flask) -> list[str]:
    """Counts the requests the Flask view answered in ``app``."""
    calls: list[str] = count_views(app, VIEW)
    return calls


def comparable(resp: TestResponse) -> tuple[int, list[tuple[str, str]], Any]:
    """Status, headers and body, with the one field that differs between two calls
    (``checked_at``, the moment of the check) taken out after checking it."""
    body: Any = resp.get_data(as_text=True)
    if resp.mimetype == "application/json" and body:
        body = json.loads(body)
        if isinstance(body, dict) and "checked_at" in body:
            checked = datetime.fromisoformat(body.pop("checked_at"))
            assert abs(NOW - checked) < timedelta(minutes=1)
    return resp.status_code, sorted(resp.headers.items()), body


def test_the_fast_path_is_in_front_of_flask(app: Flask, flask_only: Flask) -> None:
    # the request timer (registry/platform/metrics.py) is outermost, timing both
    timer, flask_timer = app.wsgi_app, flask_only.wsgi_app
    assert isinstance(timer, RequestTimer) and isinstance(flask_timer, RequestTimer)
    assert isinstance(timer.next, FastVerify)
    assert not isinstance(flask_timer.next, FastVerify)


def test_every_verdict_is_answered_alike_and_below_flask(
    app: Flask, flask_only: Flask, session: Any, master: MasterKey, signing_key: Any, view_calls: list[str]
) -> None:
    cases = every_state(session, master, BASE_URL, now=NOW)
    set_photo(get_staff(session, "TTTT-002"), b"\xff\xd8\xff\xe0 a photo", "image/jpeg")  # photo_url is set
    session.commit()
    fast, slow = app.test_client(), flask_only.test_client()
    verdicts = set()
    for name, case in cases.items():
        params = {"token": case.token, **({"agency": case.agency} if case.agency else {})}
        url = "/api/v1/verify?" + urlencode(params)
        got, want = fast.get(url), slow.get(url)
        assert comparable(got) == comparable(want), name
        assert got.json is not None and got.json["verdict"] == case.expected, name
        verdicts.add(case.expected)
    assert view_calls == []  # not one of them went through Flask
    assert {"valid", "suspended", "revoked", "expired", "not_yet_valid", "unknown_key"} <= verdicts
    assert {"bad_signature", "malformed", "key_revoked", "wrong_agency"} <= verdicts
    answer = fast.get("/api/v1/verify?" + urlencode({"token": cases["valid"].token})).json
    assert answer is not None and answer["staff"]["photo_url"] == f"{BASE_URL}/api/v1/staff/TTTT-002/photo"


def test_expect_and_repeated_parameters_read_as_flask_reads_them(
    app: Flask, flask_only: Flask, session: Any, master: MasterKey, signing_key: Any, view_calls: list[str]
) -> None:
    cases = every_state(session, master, BASE_URL, now=NOW)
    card, letter = cases["valid"].token, cases["assignment_valid"].token
    queries_ = [
        [("token", card), ("expect", "credential")],
        [("token", card), ("expect", " Assignment ")],  # a card shown as a letter: malformed
        [("token", letter), ("expect", "assignment"), ("agency", "hanoi.gov.vn")],
        [("token", letter), ("agency", "nghean.gov.vn"), ("agency", "hanoi.gov.vn")],  # the first counts
        [("token", card), ("token", "xin chào")],
        [("token", "")],
        [],
        [("token", f"{BASE_URL}/v/{card}")],
        [("token", "a" * 8192)],
        [("token", card), ("agency", "x" * 5000)],
    ]
    fast, slow = app.test_client(), flask_only.test_client()
    for query in queries_:
        url = "/api/v1/verify?" + urlencode(query)
        assert comparable(fast.get(url)) == comparable(slow.get(url)), query
    assert view_calls == []


def test_requests_outside_the_plain_case_go_on_to_flask(
    app: Flask, flask_only: Flask, session: Any, master: MasterKey, signing_key: Any, view_calls: list[str]
) -> None:
    token = every_state(session, master, BASE_URL, now=NOW)["valid"].token
    plain = urlencode({"token": token})
    fast, slow = app.test_client(), flask_only.test_client()
    requests: list[tuple[str, dict[str, Any]]] = [
        (f"/api/v1/verify?{plain}&lang=en", {}),  # sets the language cookie
        (f"/api/v1/verify?{plain}&expect=letter", {}),  # 400
        ("/api/v1/verify?" + urlencode({"token": "a" * 8193}), {}),  # 413
        (f"/api/v1/verify?{plain}", {"headers": {"Cookie": "lang=en"}}),
        (f"/api/v1/verify?{plain}", {"method": "POST"}),
        (f"/api/v1/verify?{plain}", {"method": "HEAD"}),
        ("/api/v1/verify", {"method": "POST", "json": {"token": token}}),
        (f"/api/v1/verify?{plain}", {"data": "token=x", "content_type": "application/x-www-form-urlencoded"}),
        (f"/api/v1/verify?{plain}&utm_source=zalo", {}),
        (f"/api/v1/verify/?{plain}", {}),
    ]
    for url, kwargs in requests:
        got, want = fast.open(url, **kwargs), slow.open(url, **kwargs)
        assert comparable(got) == comparable(want), (url, kwargs)
    assert len(view_calls) == 9  # all but the unknown path, which no view answers
    assert fast.get(f"/api/v1/verify?{plain}&expect=letter").status_code == 400


def test_a_query_string_of_raw_bytes_goes_to_flask(app: Flask, flask_only: Flask, view_calls: list[str]) -> None:
    environ = {"QUERY_STRING": "token=%E1%BA%A1b&agency=S\xe1\xbb\x9f".encode("latin1").decode("latin1")}
    got = app.test_client().get("/api/v1/verify", environ_overrides=environ)
    want = flask_only.test_client().get("/api/v1/verify", environ_overrides=environ)
    assert comparable(got) == comparable(want)
    assert len(view_calls) == 1


def test_percent_escapes_that_are_not_utf8_read_as_flask_reads_them(
    app: Flask, flask_only: Flask, view_calls: list[str]
) -> None:
    for query in ("token=%FF%FE.%C3&agency=%C3%28", "token=abc%2Edef%2Eghi&expect=%20credential%20", "token&agency"):
        got = app.test_client().get(f"/api/v1/verify?{query}")
        want = flask_only.test_client().get(f"/api/v1/verify?{query}")
        assert comparable(got) == comparable(want), query
    assert view_calls == []


def test_the_view_has_no_rate_limit_for_the_fast_path_to_skip(database_url: str, tmp_path: Path) -> None:
    """The fast path does not consult the rate limiter. That is right only while the
    view has no limit: a limit added to it would show here as X-RateLimit headers."""
    with both_paths(database_url, tmp_path, RATELIMIT_ENABLED=True) as apps:
        for _ in range(3):
            got, want = (a.test_client().get("/api/v1/verify?token=abc") for a in apps)
            assert comparable(got) == comparable(want)
            limited = [name for name, _ in want.headers.items() if name.lower().startswith(("x-ratelimit", "retry"))]
            assert not limited


def test_security_headers_and_hsts_on_the_fast_path(database_url: str, tmp_path: Path) -> None:
    with both_paths(database_url, tmp_path, HSTS_SECONDS=31536000) as apps:
        got, want = (a.test_client().get("/api/v1/verify?token=abc") for a in apps)
        assert comparable(got) == comparable(want)
        assert got.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert got.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in got.headers["Content-Security-Policy"]
        assert got.json is not None and got.json["verdict"] == "malformed"


def test_a_failure_below_flask_is_answered_by_the_view(
    app: Flask, session: Any, master: MasterKey, signing_key: Any, view_calls: list[str], monkeypatch: Any
) -> None:
    token = every_state(session, master, BASE_URL, now=NOW)["valid"].token

    def down(self: FastVerify, params: dict[str, str]) -> bytes:
        raise OperationalError("SELECT", {}, Exception("the database went away"))

    monkeypatch.setattr(FastVerify, "answer", down)
    resp = app.test_client().get("/api/v1/verify?" + urlencode({"token": token}))
    assert resp.status_code == 200 and resp.json is not None and resp.json["verdict"] == "valid"
    assert view_calls == [VIEW]


@pytest.mark.parametrize("read", [queries.KEY_AND_CREDENTIAL, WARNED_READ], ids=["verification", "scan page"])
def test_the_prepared_read_gives_the_rows_sqlalchemy_gives(
    app: Flask, session: Any, master: MasterKey, signing_key: Any, read: queries.VerificationRead
) -> None:
    cases = every_state(session, master, BASE_URL, now=NOW)
    pairs = [("missing-kid", "missing-jti"), (signing_key.kid, "missing-jti")]
    for case in cases.values():
        try:
            header, claims = (json.loads(b64url_decode(part)) for part in case.token.split(".")[:2])
        except (KeysError, ValueError):
            continue  # the malformed cases
        pairs.append((header["kid"], claims["jti"]))
    engine = app.extensions["chinhdanh.read_engine"]
    with engine.connect() as conn:
        prepared = PreparedRead.compile(read.query, conn.dialect)
        found = 0
        for kid, jti in pairs:
            want = conn.execute(read.query, {"kid": kid, "jti": jti}).first()
            got = prepared.first(conn, {"kid": kid, "jti": jti})
            assert got == (tuple(want) if want is not None else None), (kid, jti)
            # StrEnum members equal their strings: the types must match too
            assert [type(v) for v in got or ()] == [type(v) for v in want or ()], (kid, jti)
            found += got is not None and got[3] is not None
    assert found >= 10  # credentials were found, with their enums, JSON and datetimes


def test_read_with_retry_tries_once_more_only_after_a_dropped_connection(app: Flask) -> None:
    engine = app.extensions["chinhdanh.read_engine"]
    calls: list[int] = []

    def dropped(times: int) -> Any:
        def read(conn: Any) -> str:
            calls.append(1)
            if len(calls) <= times:
                raise DBAPIError("SELECT", {}, Exception("server closed the connection"), connection_invalidated=True)
            return "answer"

        return read

    assert read_with_retry(engine, dropped(1)) == "answer" and len(calls) == 2
    calls.clear()
    with pytest.raises(DBAPIError):
        read_with_retry(engine, dropped(2))
    assert len(calls) == 2
    calls.clear()

    def broken(conn: Any) -> str:
        calls.append(1)
        raise DBAPIError("SELECT", {}, Exception("syntax error"), connection_invalidated=False)

    with pytest.raises(DBAPIError):
        read_with_retry(engine, broken)
    assert len(calls) == 1  # not a dropped connection: no second try


def test_verification_survives_the_server_dropping_every_connection(
    app: Flask, database_url: str, session: Any, master: MasterKey, signing_key: Any, view_calls: list[str]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL pointing at PostgreSQL (a server that can drop connections)")
    token = every_state(session, master, BASE_URL, now=NOW)["valid"].token
    engine = app.extensions["chinhdanh.read_engine"]
    kid = signing_key.kid
    client = app.test_client()
    url = "/api/v1/verify?" + urlencode({"token": token})
    assert client.get(url).json["verdict"] == "valid"  # type: ignore[index]
    with engine.connect() as conn:  # the prepared read on a connection the server drops
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as failure:
            queries.KEY_AND_CREDENTIAL(conn, kid, "x")
        assert failure.value.connection_invalidated and conn.invalidated
    assert client.get(url).json["verdict"] == "valid"  # type: ignore[index]  # a new pooled connection
    # as after a restart of the server: every pooled connection of the service is gone
    session.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    session.commit()
    assert client.get(url).json["verdict"] == "valid"  # type: ignore[index]
    assert view_calls == []  # answered below Flask, on its second try
    page = client.get(f"/v/{token}", headers={"Accept": "application/json"})
    assert page.status_code == 200 and page.json is not None and page.json["verdict"] == "valid"
