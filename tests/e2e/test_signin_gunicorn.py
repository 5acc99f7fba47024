"""Issue 13, acceptance 3 on two gunicorn processes sharing one PostgreSQL database:
failures sent to both count together per (username, address), the right sign-in
from another address still works, and the account-wide lock after 50 failures holds
on both. The client address comes from X-Forwarded-For (one trusted proxy), as behind
the production reverse proxy. CSRF protection is on, as in production."""

from __future__ import annotations

import os
import re
import time
from contextlib import ExitStack

import pyotp
import pytest
import requests
from conftest import ROOT
from helpers_admin import PASSWORD, cheap_argon2, make_admin  # noqa: F401 - fixture
from sqlalchemy import select
from test_reports_concurrency import _server_env, running

from registry.accounts import signin
from registry.accounts.models import AdminUser
from registry.outbox.models import OutboxMessage
from registry.sessions import throttle

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("cheap_argon2"),
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="needs TEST_DATABASE_URL pointing at PostgreSQL",
    ),
]

PORTS = (21100, 21101)  # this helper's range
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")


def attempt(web: requests.Session, url: str, address: str, password: str, code: str) -> requests.Response:
    page = web.get(f"{url}/admin/login", headers={"X-Forwarded-For": address}, timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return web.post(
        f"{url}/admin/login",
        data={"username": "admin-user", "password": password, "code": code, "csrf_token": token.group(1)},
        headers={"X-Forwarded-For": address},
        allow_redirects=False,
        timeout=60,
    )


def test_throttle_and_lock_hold_across_two_gunicorn_processes(app, database_url, tmp_path, session, master):
    user, secret = make_admin(session, master)
    make_admin(session, master, username="boss")
    env = {**_server_env(database_url, tmp_path / "instance"), "CHINHDANH_TRUSTED_PROXIES": "1"}
    env["SECRET_KEY"] = "gunicorn-test-secret-of-at-least-32-bytes"
    with ExitStack() as stack:
        urls = []
        for port in PORTS:
            cmd = [GUNICORN, "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "60", "app:create_app()"]
            urls.append(stack.enter_context(running(cmd, env, port, tmp_path / f"gunicorn-{port}.log")))
        web = requests.Session()
        statuses = [
            attempt(web, urls[i % 2], "198.51.100.1", "wrong password!!", "000000").status_code
            for i in range(throttle.FREE_FAILURES)
        ]
        assert statuses == [401] * throttle.FREE_FAILURES
        code = pyotp.TOTP(secret).now()
        assert [attempt(web, u, "198.51.100.1", PASSWORD, code).status_code for u in urls] == [429, 429]
        ok = attempt(requests.Session(), urls[1], "203.0.113.5", PASSWORD, code)
        assert ok.status_code == 302 and ok.headers["Location"] == "/admin/"

        for i in range(signin.ACCOUNT_LOCK_FAILURES):
            address = f"192.0.{i // 4}.{i % 4 + 1}"
            assert attempt(web, urls[i % 2], address, "wrong password!!", "000000").status_code == 401
        later = pyotp.TOTP(secret).at(int(time.time()) + 30)
        assert [attempt(requests.Session(), u, "203.0.113.6", PASSWORD, later).status_code for u in urls] == [401, 401]
    session.expire_all()
    assert session.get(AdminUser, user.id).locked_until is not None
    events = session.scalars(select(OutboxMessage.event)).all()
    assert events == ["admin.account_locked"]
