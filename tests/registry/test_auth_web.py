"""Sign-in over HTTP: the login form, one answer for every failure, lockout, the
session cookie (flags, idle and absolute timeouts, sign out everywhere), safe
redirects after sign-in, setup links, CSRF and the per-IP rate limit."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from conftest import NOW
from helpers_admin import (  # noqa: F401 - fixture
    PASSWORD,
    cheap_argon2,
    make_admin,
    must,
    sign_in_client,
    start_session,
)
from sqlalchemy import func, select

from registry.accounts import service as accounts
from registry.accounts.auth import ABSOLUTE_TIMEOUT, COOKIE_DEV, COOKIE_PRODUCTION, IDLE_TIMEOUT
from registry.accounts.models import AccountStatus, AdminRole, AdminUser
from registry.audit.models import AuditEntry
from registry.sessions import throttle
from registry.sessions.models import AdminSession

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def post_login(client: Any, username: str, password: str, code: str, **extra: str) -> Any:
    return client.post("/admin/login", data={"username": username, "password": password, "code": code, **extra})


def audit_rows(app: Any, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    s = app.extensions["chinhdanh.sessionmaker"]()
    try:
        return [
            (e.actor, e.target, e.details) for e in s.scalars(select(AuditEntry).where(AuditEntry.action == action))
        ]
    finally:
        s.close()


def test_login_page_renders_in_both_languages(client):
    vi = client.get("/admin/login")
    assert vi.status_code == 200 and b'lang="vi"' in vi.data
    assert "Đăng nhập".encode() in vi.data
    en = client.get("/admin/login?lang=en")
    assert b"Sign in to the console" in en.data and b'lang="en"' in en.data
    assert vi.headers["Cache-Control"] == "no-store"


def test_login_success_sets_a_safe_cookie_and_audits(app, client, session, master):
    _user, secret = make_admin(session, master)
    resp = post_login(client, "admin-user", PASSWORD, pyotp.TOTP(secret).at(NOW))
    assert resp.status_code == 302 and resp.location == "/admin/"
    cookie = must(re.search(f"{COOKIE_DEV}=([^;]+);.*", "\n".join(resp.headers.getlist("Set-Cookie"))))
    assert "HttpOnly" in cookie.group(0) and "SameSite=Lax" in cookie.group(0) and "Secure" not in cookie.group(0)
    assert "Path=/" in cookie.group(0) and "Expires" not in cookie.group(0)
    # the cookie is a random id (256 bits); the server keeps only its hash
    raw = cookie.group(1)
    assert len(raw) >= 43
    rows = session.scalars(select(AdminSession)).all()
    assert len(rows) == 1 and raw not in rows[0].id_hash and rows[0].address == "127.0.0.1"
    assert client.get("/admin/").status_code == 200
    assert [t for _a, t, _d in audit_rows(app, "auth.login")] == ["admin-user"]


@pytest.mark.parametrize("app", [{"CHINHDANH_ENV": "production"}], indirect=True)
def test_cookie_is_secure_in_production(app, client, session, master):
    _user, secret = make_admin(session, master)
    resp = post_login(client, "admin-user", PASSWORD, pyotp.TOTP(secret).at(NOW))
    assert resp.status_code == 302
    cookies = resp.headers.getlist("Set-Cookie")
    admin = [c for c in cookies if c.startswith(COOKIE_PRODUCTION + "=")]
    assert len(admin) == 1 and "Secure" in admin[0] and "Path=/" in admin[0] and "Domain" not in admin[0]
    assert "HttpOnly" in admin[0] and "SameSite=Lax" in admin[0]
    flask_cookie = [c for c in cookies if c.startswith("__Host-session=")]
    assert len(flask_cookie) == 1 and "Secure" in flask_cookie[0]
    assert not any(c.startswith(COOKIE_DEV + "=") for c in cookies)


def test_failures_look_the_same_and_are_recorded(app, client, session, master):
    _user, secret = make_admin(session, master)
    bodies = {}
    for username, password in [("admin-user", "wrong password!!"), ("ghost-user", "wrong password!!")]:
        resp = post_login(client, username, password, pyotp.TOTP(secret).at(NOW))
        assert resp.status_code == 401
        assert b'data-error="sign_in_failed"' in resp.data
        bodies[username] = resp.data.decode().replace(username, "USERNAME")
        bodies[username] = re.sub(r'name="csrf_token" value="[^"]*"', "", bodies[username])
    assert bodies["admin-user"] == bodies["ghost-user"]
    failed = audit_rows(app, "auth.login_failed")
    assert [(t, d["reason"]) for _a, t, d in failed] == [("admin-user", "password"), ("ghost-user", "unknown_user")]


def test_source_throttled_over_http(app, client, session, master):
    user, secret = make_admin(session, master)
    for _ in range(throttle.FREE_FAILURES):
        assert post_login(client, "admin-user", "wrong password!!", "000000").status_code == 401
    # this address now waits, even with the right password and code (429, Retry-After)
    resp = post_login(client, "admin-user", PASSWORD, pyotp.TOTP(secret).at(NOW))
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "60"
    assert b'data-error="sign_in_throttled"' in resp.data
    assert "chờ 1 phút".encode() in resp.data
    session.expire_all()
    assert session.get(AdminUser, user.id).locked_until is None
    assert audit_rows(app, "auth.login_failed")[-1][2]["reason"] == "throttled"


@pytest.mark.parametrize(
    ("next_value", "location"),
    [
        ("/admin/staff?q=a", "/admin/staff?q=a"),
        ("//evil.example/admin", "/admin/"),
        ("https://evil.example/admin", "/admin/"),
        ("/v/abc", "/admin/"),
        ("/admin\\@evil.example", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
        ("/admin/" + "a" * 3000, "/admin/"),
    ],
)
def test_redirect_after_sign_in_stays_in_the_console(client, session, master, next_value, location):
    _user, secret = make_admin(session, master)
    resp = post_login(client, "admin-user", PASSWORD, pyotp.TOTP(secret).at(NOW), next=next_value)
    assert resp.status_code == 302
    assert resp.location == location


def test_guard_remembers_where_you_were_going(client):
    resp = client.get("/admin/staff?q=Đức")
    assert resp.status_code == 302
    assert resp.location.startswith("/admin/login?next=")


@pytest.mark.parametrize(
    ("started", "seen", "ok"),
    [
        (timedelta(minutes=5), timedelta(minutes=1), True),
        (timedelta(hours=1), IDLE_TIMEOUT + timedelta(seconds=5), False),
        (ABSOLUTE_TIMEOUT + timedelta(minutes=1), timedelta(minutes=1), False),
    ],
)
def test_idle_and_absolute_timeouts(app, session, master, started, seen, ok):
    """The server's record decides: when the session began and when it was last used."""
    user, _secret = make_admin(session, master)
    client = sign_in_client(app.test_client(), user, at=NOW - started)
    row = session.scalars(select(AdminSession)).one()
    row.last_seen_at = NOW - seen
    session.commit()
    resp = client.get("/admin/staff")
    assert resp.status_code == (200 if ok else 302)
    if not ok:  # the dead cookie is dropped
        assert any(c.startswith(f"{COOKIE_DEV}=;") for c in resp.headers.getlist("Set-Cookie"))


def test_timeouts_follow_the_frozen_clock(app, clock, session, master):
    user, _secret = make_admin(session, master)
    client = sign_in_client(app.test_client(), user)
    clock.at = NOW + IDLE_TIMEOUT - timedelta(seconds=1)
    assert client.get("/admin/staff").status_code == 200
    # used every 29 minutes, the session still ends at the absolute timeout
    while clock.at + IDLE_TIMEOUT - timedelta(minutes=1) < NOW + ABSOLUTE_TIMEOUT:
        clock.at += IDLE_TIMEOUT - timedelta(minutes=1)
        assert client.get("/admin/staff").status_code == 200, clock.at
    clock.at = NOW + ABSOLUTE_TIMEOUT + timedelta(seconds=1)
    assert client.get("/admin/staff").status_code == 302
    # and an idle one ends after the idle timeout
    other = sign_in_client(app.test_client(), user, at=clock.at)
    clock.at += IDLE_TIMEOUT + timedelta(seconds=1)
    assert other.get("/admin/staff").status_code == 302


@pytest.mark.parametrize("app", [{"ADMIN_IDLE_TIMEOUT_S": 60, "ADMIN_ABSOLUTE_TIMEOUT_S": 600}], indirect=True)
def test_timeouts_are_configurable(app, clock, session, master):
    user, _secret = make_admin(session, master)
    client = app.test_client()
    sign_in_client(client, user, at=NOW - timedelta(seconds=90))
    assert client.get("/admin/staff").status_code == 302
    sign_in_client(client, user)
    for minute in range(1, 10):
        clock.at = NOW + timedelta(minutes=minute)
        assert client.get("/admin/staff").status_code == 200
    clock.at = NOW + timedelta(seconds=601)
    assert client.get("/admin/staff").status_code == 302


def test_activity_keeps_the_session_alive(app, session, master):
    user, _secret = make_admin(session, master)
    client = sign_in_client(app.test_client(), user, at=NOW - timedelta(minutes=20))
    assert client.get("/admin/staff").status_code == 200
    session.expire_all()
    assert session.scalars(select(AdminSession)).one().last_seen_at == NOW


def test_sign_out_everywhere_ends_other_sessions(app, session, master):
    user, _secret = make_admin(session, master)
    laptop = sign_in_client(app.test_client(), user)
    phone = sign_in_client(app.test_client(), user)
    assert phone.get("/admin/staff").status_code == 200
    resp = laptop.post("/admin/account/sign-out-everywhere")
    assert resp.status_code == 302 and resp.location == "/admin/login"
    assert phone.get("/admin/staff").status_code == 302
    assert laptop.get("/admin/staff").status_code == 302
    assert audit_rows(app, "account.sign_out_everywhere")[0][1] == "admin-user"


def test_disabling_an_account_ends_its_sessions(app, session, master):
    boss, _ = make_admin(session, master, AdminRole.ADMIN, "boss")
    worker, _ = make_admin(session, master, AdminRole.ISSUER, "worker")
    worker_client = sign_in_client(app.test_client(), worker)
    assert worker_client.get("/admin/staff").status_code == 200
    boss_client = sign_in_client(app.test_client(), boss)
    resp = boss_client.post("/admin/accounts/worker/status", data={"to": "disabled"})
    assert resp.status_code == 302
    assert worker_client.get("/admin/staff").status_code == 302
    # and an admin cannot disable themselves (the console would lose its last admin)
    assert boss_client.post("/admin/accounts/boss/status", data={"to": "disabled"}).status_code == 400


def test_logout(app, session, master):
    user, _ = make_admin(session, master)
    client = sign_in_client(app.test_client(), user)
    resp = client.post("/admin/logout")
    assert resp.status_code == 302
    assert client.get("/admin/staff").status_code == 302
    assert audit_rows(app, "auth.logout")[0][1] == "admin-user"


def test_console_account_creation_and_setup_link(app, session, master):
    boss, _ = make_admin(session, master, AdminRole.ADMIN, "boss")
    boss_client = sign_in_client(app.test_client(), boss)
    resp = boss_client.post("/admin/accounts", data={"username": "New.Reviewer", "role": "reviewer"})
    assert resp.status_code == 200
    link = must(re.search(r"data-setup-url>([^<]+)<", resp.data.decode())).group(1)
    path = link.removeprefix(app.config["PUBLIC_BASE_URL"])
    assert path.startswith("/admin/setup/")
    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and b"<svg" in page.data
    secret = must(re.search(r"data-totp-secret>([A-Z2-7]+)<", page.data.decode())).group(1)
    session.expire_all()
    created_with = accounts.totp_secret(master, accounts.get_account(session, "new.reviewer"))
    assert secret != created_with  # a fresh secret, made when the link is first opened
    # shown once: a second visit (or whoever else opens the link) sees neither QR nor key
    again = newcomer.get(path)
    assert again.status_code == 200 and b"<svg" not in again.data and secret.encode() not in again.data
    assert b"data-secret-shown" in again.data and b"data-totp-secret" not in again.data
    bad = newcomer.post(path, data={"password": PASSWORD, "password2": PASSWORD + "x", "code": "000000"})
    assert bad.status_code == 400
    code = pyotp.TOTP(secret).at(NOW)
    done = newcomer.post(path, data={"password": PASSWORD, "password2": PASSWORD, "code": code})
    assert done.status_code == 302 and done.location == "/admin/login"
    assert newcomer.get(path).status_code == 404  # spent
    session.expire_all()
    newbie = accounts.get_account(session, "new.reviewer")
    assert newbie.status is AccountStatus.ACTIVE
    assert accounts.totp_secret(master, newbie) == secret
    actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions[-3:] == ["account.create", "account.setup_link", "account.setup_complete"]


def test_console_reset_gives_a_new_link_and_ends_sessions(app, session, master):
    boss, _ = make_admin(session, master, AdminRole.ADMIN, "boss")
    worker, _ = make_admin(session, master, AdminRole.ISSUER, "worker")
    worker_client = sign_in_client(app.test_client(), worker)
    boss_client = sign_in_client(app.test_client(), boss)
    assert boss_client.post("/admin/accounts/worker/reset").status_code == 400  # not confirmed
    resp = boss_client.post("/admin/accounts/worker/reset", data={"confirm": "yes"})
    assert resp.status_code == 200 and b"data-setup-url" in resp.data
    assert worker_client.get("/admin/staff").status_code == 302
    session.expire_all()
    assert accounts.get_account(session, "worker").status is AccountStatus.PENDING


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_csrf_token_required(app, session, master):
    from keys import service as key_service

    user, secret = make_admin(session, master)
    client = app.test_client()
    # the sign-in form without its token is refused before any password is checked
    resp = post_login(client, "admin-user", PASSWORD, pyotp.TOTP(secret).at(NOW))
    assert resp.status_code == 400
    assert audit_rows(app, "auth.login") == [] and audit_rows(app, "auth.login_failed") == []
    # a signed-in admin's form post without the token changes nothing
    sign_in_client(client, user)
    key_service.generate_key(session, master, now=NOW)
    session.commit()
    assert client.post("/admin/keys/rotate", data={"confirm": "yes"}).status_code == 400
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "key.rotate")) == 0
    page = client.get("/admin/keys").data.decode()
    token = must(re.search(r'name="csrf_token" value="([^"]+)"', page)).group(1)
    assert client.post("/admin/keys/rotate", data={"confirm": "yes", "csrf_token": token}).status_code == 302


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True}], indirect=True)
def test_login_rate_limited_per_ip(client):
    codes = [post_login(client, f"user{i}", "wrong password!!", "000000").status_code for i in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429
