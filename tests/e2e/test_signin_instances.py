"""Issue 13, acceptance 3 on two app instances sharing one database (PostgreSQL when
TEST_DATABASE_URL points at it): the throttle counters, the account-wide lock and
the server sessions live in the database, so two instances enforce the same ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from conftest import NOW, FrozenClock, app_config
from flask import Flask
from helpers_admin import PASSWORD, cheap_argon2, make_admin  # noqa: F401 - fixture
from sqlalchemy import func, select

from app import create_app
from registry.accounts import signin
from registry.accounts.models import AdminUser
from registry.outbox.models import OutboxMessage
from registry.platform.db import dispose_engines
from registry.sessions import throttle

pytestmark = pytest.mark.usefixtures("cheap_argon2")


@pytest.fixture()
def twin(database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    """A second app instance on the same database (its own engine and pool)."""
    other = create_app(app_config(database_url, tmp_path / "instance-b", CLOCK=clock))
    yield other
    dispose_engines(other)


def attempt(app: Flask, username: str, password: str, code: str, address: str) -> Any:
    return app.test_client().post(
        "/admin/login",
        data={"username": username, "password": password, "code": code},
        environ_base={"REMOTE_ADDR": address},
    )


def test_source_throttle_is_shared_and_another_address_still_signs_in(app, twin, session, master):
    _user, secret = make_admin(session, master)
    instances = (app, twin)
    for i in range(throttle.FREE_FAILURES):
        resp = attempt(instances[i % 2], "admin-user", "wrong password!!", "000000", "198.51.100.1")
        assert resp.status_code == 401
    code = pyotp.TOTP(secret).at(NOW)
    assert [attempt(a, "admin-user", PASSWORD, code, "198.51.100.1").status_code for a in instances] == [429, 429]
    ok = attempt(twin, "admin-user", PASSWORD, code, "203.0.113.5")
    assert ok.status_code == 302
    # the session it started opens the console on the other instance too, and ends on both
    cookie = ok.headers.getlist("Set-Cookie")
    value = next(c.split(";")[0].split("=", 1)[1] for c in cookie if c.startswith("chinhdanh_admin="))
    on_a = app.test_client()
    on_a.set_cookie("chinhdanh_admin", value)
    assert on_a.get("/admin/staff").status_code == 200
    on_b = twin.test_client()
    on_b.set_cookie("chinhdanh_admin", value)
    assert on_b.post("/admin/logout").status_code == 302
    assert on_a.get("/admin/staff").status_code == 302


def test_account_lock_counts_failures_from_both_instances_once(app, twin, session, master):
    user, secret = make_admin(session, master)
    make_admin(session, master, username="boss")
    instances = (app, twin)
    for i in range(signin.ACCOUNT_LOCK_FAILURES - 1):
        address = f"198.51.{i // 4}.{i % 4 + 1}"
        assert attempt(instances[i % 2], "admin-user", "wrong password!!", "000000", address).status_code == 401
    session.expire_all()
    assert session.get(AdminUser, user.id).locked_until is None
    assert attempt(twin, "admin-user", "wrong password!!", "000000", "192.0.2.1").status_code == 401
    session.expire_all()
    assert session.get(AdminUser, user.id).locked_until == NOW + signin.LOCKOUT
    code = pyotp.TOTP(secret).at(NOW)
    assert [attempt(a, "admin-user", PASSWORD, code, "203.0.113.9").status_code for a in instances] == [401, 401]
    messages = session.scalars(select(OutboxMessage)).all()
    assert [(m.event, m.payload["notify"]) for m in messages] == [("admin.account_locked", ["boss"])]
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
