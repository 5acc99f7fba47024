"""Console sessions live on the server (issue 13): a cookie copied before sign-out
is refused after it; a cookie minted with SECRET_KEY opens nothing; resets,
suspension and "sign out everywhere (else)" end sessions at once; the sessions page
lists one's own open sessions; the setup link shows its secret once; ``next`` is
CR/LF safe."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from factories import NOW
from flask.sessions import SecureCookieSessionInterface
from helpers_admin import PASSWORD, cheap_argon2, make_admin, must, sign_in_client  # noqa: F401 - fixture
from sqlalchemy import select

from keys.contract import VN_TZ
from registry.accounts import service as accounts
from registry.accounts.auth import COOKIE_DEV
from registry.accounts.models import AccountStatus, AdminRole
from registry.audit.models import AuditEntry
from registry.sessions.models import AdminSession

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def post_login(client: Any, username: str, secret: str, steps: int = 0, **extra: Any) -> Any:
    code = pyotp.TOTP(secret).at(int(NOW.timestamp()) + 30 * steps)
    return client.post("/admin/login", data={"username": username, "password": PASSWORD, "code": code}, **extra)


def admin_cookie(client: Any) -> str:
    cookie = client.get_cookie(COOKIE_DEV)
    assert cookie is not None
    return str(cookie.value)


def with_cookie(app: Any, value: str) -> Any:
    other = app.test_client()
    other.set_cookie(COOKIE_DEV, value)
    return other


def test_cookie_copied_before_sign_out_is_refused_after_it(app, client, session, master):
    _user, secret = make_admin(session, master)
    assert post_login(client, "admin-user", secret).status_code == 302
    copied = admin_cookie(client)
    thief = with_cookie(app, copied)
    assert thief.get("/admin/keys").status_code == 200  # a copy works while the session lives
    assert client.post("/admin/logout").status_code == 302
    resp = thief.get("/admin/keys")
    assert resp.status_code == 302 and resp.location.startswith("/admin/login")
    assert thief.get("/admin/keys", headers={"Accept": "application/json"}).status_code == 401
    row = session.scalars(select(AdminSession)).one()
    assert row.ended_at == NOW


def test_a_cookie_minted_with_the_secret_key_opens_nothing(app, session, master):
    """Whoever knows SECRET_KEY can sign any Flask session cookie: what the console
    used to trust (the account id and its session generation) now opens nothing."""
    user, _secret = make_admin(session, master)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    ts = int(NOW.timestamp())
    forged = serializer.dumps(
        {"admin_uid": user.id, "admin_gen": user.session_generation, "admin_start": ts, "admin_seen": ts}
    )
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    assert client.get("/admin/keys").status_code == 302
    # nor does an admin cookie that names no server session
    for value in ("x" * 43, forged, "", "a" * 3000):
        assert with_cookie(app, value).get("/admin/keys").status_code == 302
    # while a real one does (the forged cookies were refused for what they are)
    assert sign_in_client(app.test_client(), user).get("/admin/keys").status_code == 200


@pytest.mark.parametrize("change", ["password", "2fa", "disable", "reset"])
def test_resets_and_suspension_end_sessions_at_once(app, session, master, change):
    boss, _ = make_admin(session, master, AdminRole.ADMIN, "boss")
    worker, _ = make_admin(session, master, AdminRole.ISSUER, "worker")
    worker_client = sign_in_client(app.test_client(), worker)
    assert worker_client.get("/admin/staff").status_code == 200
    if change == "password":
        accounts.set_password(session, worker, PASSWORD + "!", actor="cli", now=NOW)
    elif change == "2fa":
        accounts.reset_totp(session, master, worker, actor="cli", now=NOW)
    elif change == "disable":
        accounts.change_status_of_other(session, worker, AccountStatus.DISABLED, by=boss, now=NOW)
    else:
        accounts.reset_other(session, master, worker, by=boss, now=NOW)
    session.commit()
    assert worker_client.get("/admin/staff").status_code == 302


def test_sessions_page_lists_only_ones_own_open_sessions(app, session, master):
    _user, secret = make_admin(session, master)
    other, _ = make_admin(session, master, AdminRole.REVIEWER, "someone-else")
    sign_in_client(app.test_client(), other)
    laptop = app.test_client()
    resp = post_login(laptop, "admin-user", secret, headers={"User-Agent": "Laptop/1.0"})
    assert resp.status_code == 302
    phone = app.test_client()
    elsewhere = {"REMOTE_ADDR": "203.0.113.7"}
    resp = post_login(phone, "admin-user", secret, 1, headers={"User-Agent": "Phone/2.0"}, environ_base=elsewhere)
    assert resp.status_code == 302
    page = laptop.get("/admin/account").data.decode()
    rows = re.findall(r'<tr data-session="(\d+)"( data-this-session)?>(.*?)</tr>', page, re.S)
    assert len(rows) == 2
    this = [r for r in rows if r[1]]
    assert len(this) == 1 and "Laptop/1.0" in this[0][2] and "127.0.0.1" in this[0][2]
    phone_row = next(r for r in rows if not r[1])
    assert "Phone/2.0" in phone_row[2] and "203.0.113.7" in phone_row[2]
    assert phone_row[2].count(f"{NOW.astimezone(VN_TZ):%d/%m/%Y}") == 2  # signed in and last seen, in Viet Nam time
    # "sign out this one" on the phone's row ends the phone's session only
    assert laptop.post(f"/admin/account/sessions/{phone_row[0]}/end").status_code == 302
    assert phone.get("/admin/staff").status_code == 302
    assert laptop.get("/admin/staff").status_code == 200
    # another account's session cannot be ended from here
    theirs = session.scalars(select(AdminSession).where(AdminSession.user_id == other.id)).one()
    assert laptop.post(f"/admin/account/sessions/{theirs.id}/end").status_code == 404
    session.expire_all()
    assert session.get(AdminSession, theirs.id).ended_at is None


def test_sign_out_everywhere_else_keeps_this_one(app, session, master):
    user, _ = make_admin(session, master)
    here = sign_in_client(app.test_client(), user)
    others = [sign_in_client(app.test_client(), user) for _ in range(2)]
    resp = here.post("/admin/account/sign-out-others")
    assert resp.status_code == 302 and resp.location == "/admin/account"
    assert [c.get("/admin/staff").status_code for c in others] == [302, 302]
    assert here.get("/admin/staff").status_code == 200
    details = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "auth.sign_out_others")).one()
    assert details == {"ended": 2}


def test_ending_this_session_from_the_list_signs_out(app, session, master):
    user, _ = make_admin(session, master)
    client = sign_in_client(app.test_client(), user)
    row = session.scalars(select(AdminSession)).one()
    resp = client.post(f"/admin/account/sessions/{row.id}/end")
    assert resp.status_code == 302 and resp.location == "/admin/login"
    assert client.get("/admin/staff").status_code == 302


@pytest.mark.parametrize(
    "next_value",
    [
        "/admin/\r\nSet-Cookie: x=1",
        "/admin/staff\nLocation: https://evil.example",
        "/admin/%0d%0a",
        "/admin/\t",
        "/admin/ x",
        "//evil.example",
        "/\\evil.example",
        "http:/admin",
        "/admin\x00",
    ],
)
def test_next_is_crlf_safe_and_local(client, session, master, next_value):
    _user, secret = make_admin(session, master)
    page = client.get("/admin/login", query_string={"next": next_value})
    assert page.status_code == 200
    data = {"username": "admin-user", "password": PASSWORD, "code": pyotp.TOTP(secret).at(NOW), "next": next_value}
    resp = client.post("/admin/login", data=data)
    assert resp.status_code == 302
    expected = "/admin/%0d%0a" if next_value == "/admin/%0d%0a" else "/admin/"
    assert resp.location == expected
    assert "\r" not in resp.headers["Location"] and "\n" not in resp.headers["Location"]


def test_guard_redirect_with_control_characters_in_the_path(client):
    resp = client.get("/admin/staff%0d%0aSet-Cookie:%20x=1")
    assert resp.status_code in (302, 404)
    assert "\n" not in resp.headers.get("Location", "")
