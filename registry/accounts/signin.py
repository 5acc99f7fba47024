"""Sign-in to the console: username, password and a code from the authenticator app.

Sign-in answers one error whether the username exists or not, and does the same
argon2id work either way (an unknown user is checked against a dummy hash), so
neither the message nor the time tells an attacker which usernames exist. Failures
and lockouts are stored on the account row, so every app instance enforces them.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from registry.accounts import service as accounts
from registry.accounts.models import AccountStatus, AdminUser
from registry.audit import service as audit
from registry.errors import AuthenticationError

MAX_FAILED_ATTEMPTS = 5  # wrong passwords or codes before the account locks
FAILURE_WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
LOCKOUT = timedelta(minutes=15)  # how long a locked account refuses every sign-in
MAX_CODE_INPUT = 16
MAX_CLIENT = 64
_dummy_lock = threading.Lock()
_dummy_hash: str | None = None

SIGN_IN_FAILED = (
    "Sign-in failed: the username, password or code is wrong, or the account is locked after "
    "too many attempts (wait 15 minutes)."
)


def _dummy() -> str:
    """A hash with the same parameters as real ones, made once per process."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = accounts.password_hasher().hash(secrets.token_urlsafe(24))
        return _dummy_hash


def is_locked(user: AdminUser, now: datetime) -> bool:
    return user.locked_until is not None and now < user.locked_until


def _record_failure(session: Session, user: AdminUser, now: datetime) -> None:
    """Count one failure. The count is incremented in SQL, not read-modify-written,
    so attempts spread over several app instances all count."""
    session.refresh(user, ["failed_attempts", "first_failed_at", "locked_until"])
    if user.first_failed_at is None or now - user.first_failed_at > FAILURE_WINDOW:
        user.failed_attempts = 1
        user.first_failed_at = now
    else:
        user.failed_attempts = AdminUser.failed_attempts + 1
    session.flush()
    session.refresh(user, ["failed_attempts"])
    if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
        user.locked_until = now + LOCKOUT
        user.failed_attempts = 0
        user.first_failed_at = None


def _claim_step(session: Session, user: AdminUser, step: int) -> bool:
    """Record ``step`` as used unless it (or a later one) already is: one conditional
    UPDATE, so two instances given the same code at the same moment cannot both
    accept it (the row lock queues the second, which then matches no row)."""
    claimed = session.execute(
        update(AdminUser)
        .where(
            AdminUser.id == user.id,
            or_(AdminUser.totp_last_step.is_(None), AdminUser.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["totp_last_step"])
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def authenticate(
    session: Session,
    master: MasterKey,
    username: str,
    password: str,
    code: str,
    *,
    now: datetime,
    client: str = "",
) -> AdminUser:
    """Check username, password and TOTP code; return the account or raise
    AuthenticationError (one message for every cause).

    A failure is recorded (and audited) in the caller's transaction, which must be
    committed even though this raises: that is what makes the lockout work.
    """
    typed = username.strip().lower()[: accounts.MAX_USERNAME]
    user = accounts.find_account(session, typed) if accounts.USERNAME_RE.match(typed) else None
    password = password[: accounts.MAX_PASSWORD]
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        password_ok = accounts.password_hasher().verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        password_ok = False

    reason = None
    step = None
    if user is None:
        reason = "unknown_user"
    elif user.status is not AccountStatus.ACTIVE:
        reason = f"account_{user.status.value}"
    elif is_locked(user, now):
        reason = "locked"
    elif not password_ok:
        reason = "password"
    else:
        step = accounts.match_totp_step(
            accounts.totp_secret(master, user), code[:MAX_CODE_INPUT], now=now, last_step=user.totp_last_step
        )
        if step is None or not _claim_step(session, user, step):
            reason = "code"

    if reason is not None:
        if user is not None and reason in ("password", "code"):
            _record_failure(session, user, now)
        session.flush()
        details: dict[str, object] = {"reason": reason, "client": client[:MAX_CLIENT]}
        if user is not None and user.locked_until is not None and now < user.locked_until:
            details["locked_until"] = user.locked_until.isoformat()
        audit.append(session, actor="anonymous", action="auth.login_failed", target=typed, details=details, now=now)
        raise AuthenticationError(SIGN_IN_FAILED)

    assert user is not None and stored is not None and step is not None  # noqa: S101 - narrowed by the checks above
    user.failed_attempts = 0
    user.first_failed_at = None
    user.locked_until = None
    user.last_login_at = now
    if accounts.password_hasher().check_needs_rehash(stored):
        user.password_hash = accounts.password_hasher().hash(password)
    session.flush()
    details = {"client": client[:MAX_CLIENT]}
    audit.append(session, actor=user.username, action="auth.login", target=user.username, details=details, now=now)
    return user
