"""Two app instances behind the nginx of deploy/ on one database and one Redis
(deploy/stack.py), as production runs: what one instance changes, the other sees on
the next request; the live-code lock and the per-address limits are shared; the
client address the app sees is the one nginx reports, never one the client sent.

Runs once, in the PostgreSQL run of the suite (TEST_DATABASE_URL set; ./dev test and
CI), with Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379/0) and Debian's
nginx; skipped with the reason when one is missing.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from factories import add_person
from helpers_admin import make_admin
from helpers_reports import form_data, png
from sqlalchemy import select

from deploy.stack import Stack, app_stack, nginx_available
from registry.accounts.auth import ABSOLUTE_TIMEOUT, COOKIE_DEV, IDLE_TIMEOUT
from registry.accounts.models import AdminRole
from registry.credentials.service import issue_credential
from registry.livecode import service as livecode
from registry.sessions import service as server_sessions

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="runs once, in the PostgreSQL run (TEST_DATABASE_URL)"
    ),
    pytest.mark.skipif(not nginx_available(), reason="nginx is not installed (./dev test installs Debian's)"),
]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[Stack]:
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}")
    with app_stack(database_url, REDIS_URL, instances=2, workers=2, LOG_FORMAT="json") as running:
        yield running


def direct(stack: Stack, which: int) -> str:
    """An instance's own loopback address, past nginx (as the tests pick A or B)."""
    return f"http://127.0.0.1:{stack.backends[0].ports[which]}"


def through_nginx(stack: Stack) -> str:
    return stack.backends[0].url


def https(stack: Stack) -> requests.Session:
    client = requests.Session()
    client.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over verify
    client.verify = str(stack.cert)
    return client


def admin_client(stack: Stack, session: Any, master: Any) -> requests.Session:
    """A console session for a fresh admin: a server session row (what sign-in makes
    after the password and the code, tested elsewhere) and its cookie."""
    user, _secret = make_admin(session, master, AdminRole.ADMIN, username=f"admin-{uuid.uuid4().hex[:8]}")
    raw = server_sessions.start(
        session,
        user,
        now=datetime.now(UTC),
        address="127.0.0.1",
        user_agent="pytest",
        timeouts=server_sessions.Timeouts(IDLE_TIMEOUT, ABSOLUTE_TIMEOUT),
    )
    session.commit()
    client = requests.Session()
    client.cookies.set(COOKIE_DEV, raw, domain="127.0.0.1")  # the stack serves http behind nginx's TLS
    return client


def csrf_token(client: requests.Session, url: str) -> str:
    resp = client.get(url, timeout=30)
    assert resp.status_code == 200, resp.text[:500]
    match = CSRF.search(resp.text)
    assert match is not None
    return match.group(1)


def verdict(client: requests.Session, base: str, token: str) -> str:
    resp = client.get(f"{base}/api/v1/verify", params={"token": token}, timeout=30)
    assert resp.status_code == 200
    return str(resp.json()["verdict"])


def test_a_revocation_through_one_instance_is_seen_by_the_other(
    stack: Stack, session: Any, master: Any, signing_key: Any
) -> None:
    add_person(session)
    cred = issue_credential(
        session, master, staff_code="TTTT-001", base_url=through_nginx(stack), now=datetime.now(UTC), actor="test"
    )
    session.commit()
    a, b, anyone = direct(stack, 0), direct(stack, 1), requests.Session()
    assert [verdict(anyone, base, cred.token) for base in (a, b)] == ["valid", "valid"]  # both have read it

    admin = admin_client(stack, session, master)
    page = f"{a}/admin/credentials/{cred.id}"
    resp = admin.post(
        f"{page}/status",
        data={"to": "revoked", "confirm": "yes", "reason": "lost card", "csrf_token": csrf_token(admin, page)},
        allow_redirects=False,
        timeout=30,
    )
    assert resp.status_code in (302, 303), re.findall(r"<p[^>]*>[^<]*</p>", resp.text)
    assert verdict(anyone, b, cred.token) == "revoked"  # B's very next request
    assert verdict(https(stack), through_nginx(stack), cred.token) == "revoked"
    page_b = anyone.get(f"{b}/v/{cred.token}", timeout=30)  # the scan page too
    assert page_b.status_code == 200
    assert 'data-verdict="revoked"' in page_b.text


def test_the_live_code_lock_is_shared(stack: Stack, session: Any, master: Any) -> None:
    add_person(session, code="LIVE-001")
    livecode.enrol(session, master, "LIVE-001", actor="test", now=datetime.now(UTC))
    session.commit()
    a, b, client = direct(stack, 0), direct(stack, 1), requests.Session()
    answers = [
        client.post(f"{a}/api/v1/live-code", json={"staff_code": "LIVE-001", "code": "000000"}, timeout=30).json()[
            "answer"
        ]
        for _ in range(livecode.MAX_FAILURES)
    ]
    assert answers == ["invalid"] * livecode.MAX_FAILURES
    after = client.post(f"{b}/api/v1/live-code", json={"staff_code": "LIVE-001", "code": "000000"}, timeout=30)
    assert after.json()["answer"] == "locked"  # the lock A took holds on B


def test_limits_are_shared_and_keyed_by_the_address_nginx_reports(stack: Stack) -> None:
    """60 lookups a minute per address (verify.lookup.views.LOOKUP_LIMIT): counted
    across both instances in Redis, under the address nginx saw (127.0.0.1), whatever
    X-Forwarded-For the client made up."""
    a, b, plain = direct(stack, 0), direct(stack, 1), requests.Session()
    client = https(stack)
    statuses = []
    for i in range(60):
        base = a if i % 3 == 0 else b if i % 3 == 1 else None
        if base is None:  # through nginx, with a made-up address each time
            resp = client.get(
                f"{through_nginx(stack)}/api/v1/lookup",
                params={"q": "0999 888 777"},
                headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"198.51.100.{i}"},
                timeout=30,
            )
        else:
            resp = plain.get(f"{base}/api/v1/lookup", params={"q": "0999 888 777"}, timeout=30)
        statuses.append(resp.status_code)
    assert statuses == [200] * 60
    spoofed = client.get(
        f"{through_nginx(stack)}/api/v1/lookup",
        params={"q": "0999 888 777"},
        headers={"X-Forwarded-For": "203.0.113.77"},
        timeout=30,
    )
    assert spoofed.status_code == 429  # the spoofed header bought no fresh allowance
    assert plain.get(f"{a}/api/v1/lookup", params={"q": "x y"}, timeout=30).status_code == 429
    # the control: what the proxy (the one trusted hop) reports is what the app keys on
    other = plain.get(
        f"{b}/api/v1/lookup", params={"q": "0999 888 777"}, headers={"X-Forwarded-For": "10.9.9.9"}, timeout=30
    )
    assert other.status_code == 200

    # and the address the app logged for the spoofed requests is nginx's
    logged = [
        json.loads(line)
        for port in stack.backends[0].ports
        for line in (stack.prefix / f"gunicorn-{port}.log").read_text().splitlines()
        if line.startswith("{")
    ]
    lookups = [line for line in logged if line.get("route") == "/api/v1/lookup"]
    assert {line["remote_addr"] for line in lookups} == {"127.0.0.1", "10.9.9.9"}
    assert len({line["request_id"] for line in lookups}) == len(lookups)


def test_evidence_uploaded_through_one_is_downloaded_through_the_other(
    stack: Stack, session: Any, master: Any, signing_key: Any
) -> None:
    from verify.reports.models import Report, ReportFile

    a, b = direct(stack, 0), direct(stack, 1)
    reporter = requests.Session()
    photo = png((40, 30))
    resp = reporter.post(
        f"{a}/report",
        data={**form_data(), "csrf_token": csrf_token(reporter, f"{a}/report")},
        files=[("evidence", ("screenshot.png", io.BytesIO(photo), "image/png"))],
        allow_redirects=False,
        timeout=30,
    )
    assert resp.status_code == 303, resp.text[:500]
    report = session.scalars(select(Report)).one()
    stored = session.scalars(select(ReportFile).where(ReportFile.report_id == report.id)).one()
    admin = admin_client(stack, session, master)
    download = admin.get(f"{b}/admin/reports/{report.reference}/files/{stored.public_id}", timeout=30)
    assert download.status_code == 200, re.findall(r"<p[^>]*>[^<]*</p>", download.text)[:1]
    assert download.content == photo


def test_the_stack_is_the_deploy_site(stack: Stack) -> None:
    """What nginx serves is deploy/nginx/chinhdanh.conf: TLS, static files from the
    project's folder without the app, the body limit."""
    client = https(stack)
    css = client.get(f"{through_nginx(stack)}/static/site.css", timeout=30)
    assert css.status_code == 200 and css.headers["Server"].startswith("nginx")
    assert css.content == (Path(__file__).resolve().parents[2] / "static" / "site.css").read_bytes()
    assert client.get(f"{through_nginx(stack)}/metrics", timeout=30).status_code == 404  # scraped per instance
    conn = http.client.HTTPSConnection("127.0.0.1", stack.backends[0].listen_port, context=stack.ssl_context())
    conn.putrequest("POST", "/api/v1/reports")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(16 * 1024 * 1024 + 1))  # the app's MAX_CONTENT_LENGTH, and a byte
    conn.endheaders()
    assert conn.getresponse().status == 413  # refused by nginx before a byte of the body
    conn.close()
