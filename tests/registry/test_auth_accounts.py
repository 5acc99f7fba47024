"""Account services: creation, passwords, TOTP (drift, replay), lockout, setup links,
resets, the admin CLI, and acceptance 4's first half: known and unknown usernames get
the same answer (the same hash work is measured in test_auth_timing.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pyotp
import pytest
from conftest import NOW
from helpers_admin import PASSWORD, cheap_argon2, code_at, make_admin  # noqa: F401 - fixture
from sqlalchemy import select

from registry.accounts import service as accounts
from registry.accounts import signin
from registry.accounts.models import AccountStatus, AdminRole, AdminUser
from registry.audit.models import AuditEntry
from registry.errors import AuthenticationError, ConflictError, SetupLinkError, TransitionError, ValidationError

pytestmark = pytest.mark.usefixtures("cheap_argon2")


def audit_actions(session: Any) -> list[tuple[str, str, dict[str, Any]]]:
    session.expire_all()
    return [(e.action, e.target, e.details) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def login(
    session: Any, master: Any, username: str, password: str, code: str, at: datetime = NOW, client: str = "127.0.0.1"
) -> AdminUser:
    try:
        return signin.authenticate(session, master, username, password, code, now=at, client=client)
    finally:
        session.commit()  # what the view does, success or not


def test_create_stores_only_hash_and_sealed_secret(session, master):
    user, secret = make_admin(session, master)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert secret.encode() not in user.totp_secret_sealed
    assert user.status is AccountStatus.ACTIVE
    uri = accounts.otpauth_uri(master, user)
    assert uri.startswith("otpauth://totp/chinhdanh:admin-user?secret=")
    assert ("account.create", "admin-user", {"role": "admin", "status": "active"}) in audit_actions(session)


def test_sealed_secret_is_bound_to_its_user(session, master):
    a, _ = make_admin(session, master, username="alpha")
    b, _ = make_admin(session, master, username="bravo")
    b.totp_secret_sealed = a.totp_secret_sealed  # copied to another row
    from keys.errors import MasterKeyError

    with pytest.raises(MasterKeyError):
        accounts.totp_secret(master, b)


@pytest.mark.parametrize(
    ("username", "field"),
    [("ab", "username"), ("a" * 65, "username"), ("bad name", "username"), ("-lead", "username"), ("tên", "username")],
)
def test_bad_usernames(session, master, username, field):
    with pytest.raises(ValidationError) as exc:
        make_admin(session, master, username=username)
    assert exc.value.field == field


@pytest.mark.parametrize("password", ["short", "x" * 11, "x" * 257, "good password\x00with nul"])
def test_bad_passwords(session, master, password):
    with pytest.raises(ValidationError) as exc:
        make_admin(session, master, password=password)
    assert exc.value.field == "password"


def test_duplicate_username_refused(session, master):
    make_admin(session, master, username="dup-user")
    with pytest.raises(ConflictError):
        make_admin(session, master, username="DUP-user")


def test_sign_in_ok_then_same_code_replayed(session, master):
    user, secret = make_admin(session, master)
    code = code_at(secret, NOW)
    assert login(session, master, "Admin-User", PASSWORD, code).id == user.id
    with pytest.raises(AuthenticationError):
        login(session, master, "admin-user", PASSWORD, code)
    assert audit_actions(session)[-1][0] == "auth.login_failed"
    assert audit_actions(session)[-1][2]["reason"] == "code"


@pytest.mark.parametrize(("steps", "ok"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_totp_drift(session, master, steps, ok):
    _user, secret = make_admin(session, master)
    code = code_at(secret, NOW, steps)
    if ok:
        login(session, master, "admin-user", PASSWORD, code)
    else:
        with pytest.raises(AuthenticationError):
            login(session, master, "admin-user", PASSWORD, code)


def test_earlier_step_after_later_one_is_a_replay(session, master):
    _user, secret = make_admin(session, master)
    login(session, master, "admin-user", PASSWORD, code_at(secret, NOW, 1))
    with pytest.raises(AuthenticationError):
        login(session, master, "admin-user", PASSWORD, code_at(secret, NOW, 0), at=NOW + timedelta(seconds=5))


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "１２３４５６", "12 34 56x", "0" * 10_000])
def test_malformed_codes_refused(session, master, code):
    make_admin(session, master)
    with pytest.raises(AuthenticationError) as exc:
        login(session, master, "admin-user", PASSWORD, code)
    assert exc.value.code == "sign_in_failed"


def _fail(
    session: Any, master: Any, username: str, kind: str, secret: str | None, at: datetime, client: str = "127.0.0.1"
) -> Any:
    if kind == "password":
        args = (username, "wrong password!!", code_at(secret, at) if secret else "000000")
    else:
        args = (username, PASSWORD, "000000" if secret is None or code_at(secret, at) != "000000" else "111111")
    with pytest.raises(AuthenticationError) as exc:
        login(session, master, *args, at=at, client=client)
    return exc.value


def source(i: int) -> str:
    return f"198.51.{i // 200}.{i % 200 + 1}"


@pytest.mark.parametrize("kind", ["password", "code"])
def test_account_lock_after_the_large_limit_then_release(session, master, kind):
    user, secret = make_admin(session, master)
    at = NOW
    for i in range(signin.ACCOUNT_LOCK_FAILURES - 1):
        _fail(session, master, "admin-user", kind, secret, at, client=source(i))
        at += timedelta(seconds=31)
    session.refresh(user)
    assert user.locked_until is None  # 49 failures from 49 addresses: not yet
    later = at + timedelta(seconds=31)
    assert login(session, master, "admin-user", PASSWORD, code_at(secret, later), at=later, client="203.0.113.9")
    # the success reset the count: 49 more are needed again, then the 50th locks
    for i in range(signin.ACCOUNT_LOCK_FAILURES):
        at = later + timedelta(seconds=31 * (i + 1))
        _fail(session, master, "admin-user", kind, secret, at, client=source(i))
    session.refresh(user)
    assert user.locked_until == at + signin.LOCKOUT
    # the right password and a fresh code from a clean address are refused while locked
    at += timedelta(seconds=31)
    with pytest.raises(AuthenticationError) as exc:
        login(session, master, "admin-user", PASSWORD, code_at(secret, at), at=at, client="203.0.113.9")
    assert exc.value.message == signin.SIGN_IN_FAILED
    assert audit_actions(session)[-1][2]["reason"] == "locked"
    assert user.locked_until is not None
    after = user.locked_until + timedelta(seconds=1)
    assert login(session, master, "admin-user", PASSWORD, code_at(secret, after), at=after, client="203.0.113.9")


def test_failures_outside_the_window_do_not_add_up(session, master):
    user, secret = make_admin(session, master)
    at = NOW
    for i in range(signin.ACCOUNT_LOCK_FAILURES - 1):
        _fail(session, master, "admin-user", "password", secret, at, client=source(i))
    at += signin.ACCOUNT_WINDOW + timedelta(seconds=1)
    _fail(session, master, "admin-user", "password", secret, at, client=source(999))
    session.refresh(user)
    assert user.locked_until is None and user.failed_attempts == 1


def test_success_resets_the_count(session, master):
    user, secret = make_admin(session, master)
    for i in range(4):
        _fail(session, master, "admin-user", "password", secret, NOW + timedelta(seconds=i))
    login(session, master, "admin-user", PASSWORD, code_at(secret, NOW))
    session.refresh(user)
    assert user.failed_attempts == 0
    # the source's count is cleared too: four more failures still leave it free
    for i in range(4):
        _fail(session, master, "admin-user", "password", secret, NOW + timedelta(seconds=40 + i))
    assert login(session, master, "admin-user", PASSWORD, code_at(secret, NOW, 2), at=NOW + timedelta(seconds=60))


@pytest.mark.parametrize("status", [AccountStatus.DISABLED, AccountStatus.PENDING])
def test_inactive_accounts_cannot_sign_in(session, master, status):
    user, secret = make_admin(session, master)
    user.status = status
    session.commit()
    with pytest.raises(AuthenticationError):
        login(session, master, "admin-user", PASSWORD, code_at(secret, NOW))


def test_unknown_and_known_usernames_get_the_same_answer(session, master):
    _user, secret = make_admin(session, master)
    answers = []
    for username in ("admin-user", "nobody-here", "x", "a" * 500):
        with pytest.raises(AuthenticationError) as exc:
            login(session, master, username, "wrong password!!", code_at(secret, NOW))
        answers.append((exc.value.code, exc.value.status, exc.value.message, exc.value.field))
    assert len(set(answers)) == 1
    # unknown usernames never lock anything and are audited as such
    reasons = [d["reason"] for a, _t, d in audit_actions(session) if a == "auth.login_failed"]
    assert reasons == ["password", "unknown_user", "unknown_user", "unknown_user"]


def test_setup_link_flow(session, master):
    user = accounts.create_account(
        session, master, username="newbie", role=AdminRole.ISSUER, password=None, actor="boss", now=NOW
    )
    token = accounts.create_setup_link(session, user, actor="boss", now=NOW)
    session.commit()
    assert user.status is AccountStatus.PENDING and user.password_hash is None
    assert token not in json.dumps([r.token_hash for r in user.setup_tokens])
    created_with = accounts.totp_secret(master, user)
    secret = accounts.reveal_setup_secret(session, master, token, now=NOW)
    assert secret is not None and secret != created_with
    assert accounts.reveal_setup_secret(session, master, token, now=NOW) is None  # shown once
    with pytest.raises(ValidationError) as exc:
        accounts.complete_setup(session, master, token, password=PASSWORD, code="000000", now=NOW)
    assert exc.value.field == "code"
    with pytest.raises(ValidationError):  # the secret made at creation is not the one enrolled
        accounts.complete_setup(session, master, token, password=PASSWORD, code=code_at(created_with, NOW), now=NOW)
    accounts.complete_setup(session, master, token, password=PASSWORD, code=code_at(secret, NOW), now=NOW)
    session.commit()
    assert accounts.totp_secret(master, user) == secret
    assert accounts.get_account(session, "newbie").status is AccountStatus.ACTIVE
    with pytest.raises(SetupLinkError):
        accounts.setup_account_for(session, token, now=NOW)
    # the code used to set up is spent: signing in needs a later one
    with pytest.raises(AuthenticationError):
        login(session, master, "newbie", PASSWORD, code_at(secret, NOW))
    later = NOW + timedelta(seconds=30)
    assert login(session, master, "newbie", PASSWORD, code_at(secret, later), at=later)


@pytest.mark.parametrize("token", ["", "x", "y" * 500, "../../etc/passwd"])
def test_bad_setup_tokens(session, master, token):
    with pytest.raises(SetupLinkError):
        accounts.setup_account_for(session, token, now=NOW)


def test_setup_link_expires_and_a_new_one_replaces_the_old(session, master):
    user = accounts.create_account(
        session, master, username="newbie", role=AdminRole.REVIEWER, password=None, actor="boss", now=NOW
    )
    first = accounts.create_setup_link(session, user, actor="boss", now=NOW)
    assert accounts.setup_account_for(session, first, now=NOW + timedelta(hours=23)).id == user.id
    with pytest.raises(SetupLinkError):
        accounts.setup_account_for(session, first, now=NOW + accounts.SETUP_LINK_TTL)
    second = accounts.create_setup_link(session, user, actor="boss", now=NOW)
    with pytest.raises(SetupLinkError):
        accounts.setup_account_for(session, first, now=NOW)
    assert accounts.setup_account_for(session, second, now=NOW).id == user.id


def test_reset_totp_old_code_fails_new_works_and_sessions_end(session, master):
    user, old_secret = make_admin(session, master)
    generation = user.session_generation
    uri = accounts.reset_totp(session, master, user, actor="cli:root", now=NOW)
    session.commit()
    new_secret = pyotp.parse_uri(uri).secret
    assert new_secret != old_secret
    assert user.session_generation == generation + 1
    with pytest.raises(AuthenticationError):
        login(session, master, "admin-user", PASSWORD, code_at(old_secret, NOW))
    assert login(
        session,
        master,
        "admin-user",
        PASSWORD,
        code_at(new_secret, NOW + timedelta(seconds=30)),
        at=NOW + timedelta(seconds=30),
    )
    assert ("account.reset_2fa", "admin-user", {}) in audit_actions(session)


def test_status_transitions(session, master):
    user, _ = make_admin(session, master)
    accounts.change_status(session, user, AccountStatus.DISABLED, actor="boss", now=NOW)
    with pytest.raises(TransitionError):
        accounts.change_status(session, user, AccountStatus.DISABLED, actor="boss", now=NOW)
    accounts.change_status(session, user, AccountStatus.ACTIVE, actor="boss", now=NOW)
    pending = accounts.create_account(
        session, master, username="pending", role=AdminRole.ISSUER, password=None, actor="boss", now=NOW
    )
    with pytest.raises(TransitionError):  # no password yet
        accounts.change_status(session, pending, AccountStatus.ACTIVE, actor="boss", now=NOW)


def test_cli_admin_create_json_and_reset(runner, session, master):
    result = runner.invoke(
        args=["admin", "create", "Cli-Admin", "--role", "issuer", "--password-stdin", "--json"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["username"] == "cli-admin" and payload["role"] == "issuer"
    secret = pyotp.parse_uri(payload["otpauth_uri"]).secret
    assert login(session, master, "cli-admin", PASSWORD, code_at(secret, NOW)).role is AdminRole.ISSUER
    result = runner.invoke(args=["admin", "reset-2fa", "cli-admin", "--json"])
    assert result.exit_code == 0, result.output
    new_secret = pyotp.parse_uri(json.loads(result.stdout.strip().splitlines()[-1])["otpauth_uri"]).secret
    assert new_secret != secret
    actions = [a for a, _t, _d in audit_actions(session)]
    assert "account.create" in actions and "account.reset_2fa" in actions
    actors = {e.actor for e in session.scalars(select(AuditEntry).where(AuditEntry.action.startswith("account.")))}
    assert all(a.startswith("cli:") for a in actors)


def test_cli_admin_create_shows_a_terminal_qr(runner):
    result = runner.invoke(
        args=["admin", "create", "qr-admin", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0
    assert "otpauth://totp/" in result.output
    assert "█" in result.output or "▀" in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["admin", "create", "x", "--role", "admin", "--password-stdin"], PASSWORD + "\n", "username"),
        (["admin", "create", "weak-pass", "--role", "admin", "--password-stdin"], "short\n", "password"),
        (["admin", "reset-2fa", "ghost"], "", "no account"),
    ],
)
def test_cli_errors(runner, session, args, stdin, message):
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code == 1
    assert message in result.stderr
    assert session.scalar(select(AdminUser.id)) is None


def test_replay_refused_across_instances(app, session, master):
    """Two app instances (two sessions) that both loaded the account before either
    accepted the code: the database, not the stale copy, decides; the second loses."""
    _user, secret = make_admin(session, master)
    maker = app.extensions["chinhdanh.sessionmaker"]
    first, second = maker(), maker()
    try:
        for s in (first, second):
            accounts.find_account(s, "admin-user")  # each instance has the row cached
            s.commit()
        code = code_at(secret, NOW)
        assert login(first, master, "admin-user", PASSWORD, code).username == "admin-user"
        with pytest.raises(AuthenticationError):
            login(second, master, "admin-user", PASSWORD, code)
    finally:
        first.close()
        second.close()
    assert audit_actions(session)[-1][2]["reason"] == "code"


def test_failures_on_several_instances_add_up(app, session, master):
    user, secret = make_admin(session, master)
    maker = app.extensions["chinhdanh.sessionmaker"]
    instances = [maker() for _ in range(2)]
    try:
        for s in instances:
            accounts.find_account(s, "admin-user")
            s.commit()
        for i in range(signin.ACCOUNT_LOCK_FAILURES):
            _fail(instances[i % 2], master, "admin-user", "password", secret, NOW + timedelta(seconds=i), source(i))
    finally:
        for s in instances:
            s.close()
    session.refresh(user)
    assert user.locked_until is not None


def test_cli_admin_create_prompts_for_the_password_twice(runner, session, master):
    result = runner.invoke(
        args=["admin", "create", "prompted", "--role", "reviewer", "--json"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert PASSWORD not in result.stdout
    secret = pyotp.parse_uri(payload["otpauth_uri"]).secret
    assert login(session, master, "prompted", PASSWORD, code_at(secret, NOW)).role is AdminRole.REVIEWER
    again = runner.invoke(args=["admin", "create", "prompted", "--role", "admin", "--password-stdin"], input=PASSWORD)
    assert again.exit_code == 1 and "already exists" in again.stderr
