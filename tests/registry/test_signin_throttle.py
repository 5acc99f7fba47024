"""Sign-in throttling that cannot be turned against the Centre (issue 13): failures
count per typed username and source address; after 5 that source waits, with
backoff, while the right credentials from elsewhere still work; only 50 failures in
an hour from every source together lock the account, which the other admins are
told of; password hashes are capped per process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
import pytest
from conftest import NOW
from helpers_admin import PASSWORD, cheap_argon2, make_admin, sign_in_client  # noqa: F401 - fixture
from sqlalchemy import select

from registry.accounts import signin
from registry.accounts.models import AdminRole, AdminUser
from registry.audit.models import AuditEntry
from registry.outbox.models import OutboxMessage
from registry.sessions import throttle
from registry.sessions.models import SignInThrottle

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def attempt(client: Any, username: str, password: str, code: str, address: str) -> Any:
    return client.post(
        "/admin/login",
        data={"username": username, "password": password, "code": code},
        environ_base={"REMOTE_ADDR": address},
    )


def test_five_failures_from_one_address_do_not_stop_the_right_sign_in_from_another(app, session, master):
    _user, secret = make_admin(session, master)
    code = pyotp.TOTP(secret).at(NOW)
    attacker, admin = app.test_client(), app.test_client()
    statuses = [attempt(attacker, "admin-user", "wrong password!!", "000000", "198.51.100.1") for _ in range(5)]
    assert [r.status_code for r in statuses] == [401] * 5
    # that address now waits, even with the right password and code
    assert attempt(attacker, "admin-user", PASSWORD, code, "198.51.100.1").status_code == 429
    # the owner, elsewhere, signs in
    resp = attempt(admin, "admin-user", PASSWORD, code, "203.0.113.5")
    assert resp.status_code == 302 and resp.location == "/admin/"


def blocked_for(session: Any, at: Any) -> int:
    """Seconds the one throttle row still blocks at ``at`` (the read ends its transaction)."""
    blocked = session.scalars(select(SignInThrottle.blocked_until)).one()
    session.rollback()
    return int((blocked - at).total_seconds()) if blocked else 0


def test_backoff_doubles_and_a_quiet_source_is_forgotten(app, clock, session, master):
    make_admin(session, master)
    client = app.test_client()
    waits = []
    for _ in range(9):
        assert attempt(client, "admin-user", "wrong password!!", "000000", "198.51.100.1").status_code == 401
        wait = blocked_for(session, clock.at)
        waits.append(wait)
        if wait:  # a try while blocked is refused before any hash, and counts nothing
            blocked = attempt(client, "admin-user", "wrong password!!", "000000", "198.51.100.1")
            assert blocked.status_code == 429 and blocked.headers["Retry-After"] == str(wait)
            clock.at += timedelta(seconds=wait)
    # 4 free, then 1, 2, 4, 8, 16 minutes
    assert waits == [0, 0, 0, 0, 60, 120, 240, 480, 960]
    assert throttle.backoff(40) == throttle.BACKOFF_MAX
    clock.at += throttle.MEMORY + timedelta(seconds=1)
    attempt(client, "admin-user", "wrong password!!", "000000", "198.51.100.1")
    assert session.scalars(select(SignInThrottle.failures)).one() == 1


def test_unknown_usernames_are_throttled_the_same(app, session, master):
    make_admin(session, master)
    answers = {}
    for username in ("admin-user", "nobody-here"):
        client = app.test_client()
        runs = [attempt(client, username, "wrong password!!", "000000", "198.51.100.9") for _ in range(7)]
        answers[username] = [(r.status_code, r.headers.get("Retry-After")) for r in runs]
    assert answers["admin-user"] == answers["nobody-here"]
    assert answers["admin-user"] == [(401, None)] * 5 + [(429, "60")] * 2


def test_account_lock_only_after_the_large_threshold_and_the_other_admins_are_told(app, session, master):
    user, secret = make_admin(session, master)
    make_admin(session, master, AdminRole.ADMIN, "boss")
    make_admin(session, master, AdminRole.REVIEWER, "reader")
    boss = sign_in_client(app.test_client(), session.scalars(select(AdminUser).filter_by(username="boss")).one())
    client = app.test_client()
    for i in range(signin.ACCOUNT_LOCK_FAILURES - 1):
        assert (
            attempt(client, "admin-user", "wrong password!!", "000000", f"198.51.{i // 4}.{i % 4 + 1}").status_code
            == 401
        )
    session.expire_all()
    assert session.get(AdminUser, user.id).locked_until is None
    assert b"data-account-locked" not in boss.get("/admin/account").data
    assert attempt(client, "admin-user", "wrong password!!", "000000", "192.0.2.1").status_code == 401
    session.expire_all()
    locked = session.get(AdminUser, user.id)
    assert locked.locked_until == NOW + signin.LOCKOUT
    # now even the right password and code, from a fresh address, are refused
    right = attempt(app.test_client(), "admin-user", PASSWORD, pyotp.TOTP(secret).at(NOW), "203.0.113.77")
    assert right.status_code == 401
    # audited, one outbox event addressed to the other active admins, a notice on their console
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.account_locked")).one()
    assert entry.target == "admin-user" and entry.details["failures"] == signin.ACCOUNT_LOCK_FAILURES
    message = session.scalars(select(OutboxMessage)).one()
    assert message.event == "admin.account_locked"
    assert message.payload["username"] == "admin-user" and message.payload["notify"] == ["boss"]
    page = boss.get("/admin/account")
    assert b'data-account-locked="admin-user"' in page.data
    assert "Tài khoản admin-user bị khóa với mọi địa chỉ".encode() in page.data
    reader = sign_in_client(app.test_client(), session.scalars(select(AdminUser).filter_by(username="reader")).one())
    assert b"data-account-locked" not in reader.get("/admin/staff").data  # admins only


@pytest.mark.parametrize("app", [{"SIGNIN_HASH_CONCURRENCY": 1}], indirect=True)
@pytest.mark.parametrize(("lang", "text"), [("vi", "Hệ thống đang bận"), ("en", "The console is busy")])
def test_hashes_are_capped_per_process(app, session, master, lang, text):
    from registry.accounts.views import _hash_slots

    _user, secret = make_admin(session, master)
    with app.app_context():
        slots = _hash_slots()
    assert slots.acquire(blocking=False)  # the one slot is busy elsewhere
    try:
        resp = app.test_client().post(
            f"/admin/login?lang={lang}", data={"username": "admin-user", "password": PASSWORD, "code": "000000"}
        )
    finally:
        slots.release()
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
    assert text.encode() in resp.data
    # nothing was counted against anyone: the refusal came before the hash
    assert session.scalars(select(SignInThrottle)).all() == []
    ok = app.test_client().post(
        "/admin/login", data={"username": "admin-user", "password": PASSWORD, "code": pyotp.TOTP(secret).at(NOW)}
    )
    assert ok.status_code == 302


@pytest.mark.parametrize(
    ("address", "source"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("", "-"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_an_ipv6_network_is_one_source(address, source):
    assert throttle.source_of(address) == source


def test_signing_in_again_ends_the_browsers_previous_session(app, session, master):
    from registry.sessions.models import AdminSession

    user, secret = make_admin(session, master)
    client = sign_in_client(app.test_client(), user)
    code = pyotp.TOTP(secret).at(NOW)
    resp = client.post("/admin/login", data={"username": "admin-user", "password": PASSWORD, "code": code})
    assert resp.status_code == 302
    rows = session.scalars(select(AdminSession).order_by(AdminSession.id)).all()
    assert [r.ended_at for r in rows] == [NOW, None]
