"""Sign-in to the console: username, password and a code from the authenticator app.

Sign-in answers one error whether the username exists or not, and does the same
argon2id work either way (an unknown user is checked against a dummy hash), so
neither the message nor the time tells an attacker which usernames exist.

Failures are throttled per typed username and source address
(``registry.sessions.throttle``): after 5, that source waits, longer after each
further failure, while the right credentials from any other address still work.
Only ``ACCOUNT_LOCK_FAILURES`` failures within ``ACCOUNT_WINDOW``, from all sources
together, lock the account for everyone; that is audited and announced to the other
admins (an outbox event, and a notice on their console). Every counter is in the
database, so every app instance enforces the same ones. At most
``SIGNIN_HASH_CONCURRENCY`` password hashes run at once per process (``hash_slots``).
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from keys.errors import N_
from registry.accounts import service as accounts
from registry.accounts.models import AccountStatus, AdminRole, AdminUser
from registry.audit import service as audit
from registry.errors import AuthenticationError, SignInBusyError, SignInThrottledError
from registry.outbox.models import OutboxMessage
from registry.sessions import throttle

ACCOUNT_LOCK_FAILURES = 50  # failures from every source together before the account locks
ACCOUNT_WINDOW = timedelta(hours=1)  # ... within this time
LOCKOUT = timedelta(hours=1)  # how long a locked account refuses every sign-in
HASH_WAIT_S = 0.5  # how long a sign-in waits for a free hashing slot before a 503
BUSY_RETRY_AFTER_S = 5
EVENT_ACCOUNT_LOCKED = "admin.account_locked"
MAX_CODE_INPUT = 16
MAX_CLIENT = 64
_dummy_lock = threading.Lock()
_dummy_hash: str | None = None

SIGN_IN_FAILED = (
    "Sign-in failed: the username, password or code is wrong, or the account is locked after too many failed attempts."
)
THROTTLED = N_("Too many failed sign-ins from your address: wait {minutes} minutes before the next try.")
BUSY = N_("The console is busy checking other sign-ins; try again in a few seconds.")


def hash_slots(size: int) -> threading.BoundedSemaphore:
    """The per-process cap on concurrent password hashes (64 MiB and ~165 ms each)."""
    return threading.BoundedSemaphore(max(1, size))


def _dummy() -> str:
    """A hash with the same parameters as real ones, made once per process."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = accounts.password_hasher().hash(secrets.token_urlsafe(24))
        return _dummy_hash


def is_locked(user: AdminUser, now: datetime) -> bool:
    return user.locked_until is not None and now < user.locked_until


def _check_password(stored: str | None, password: str, slots: threading.BoundedSemaphore | None) -> bool:
    """One argon2id verification (against the dummy hash when there is no account),
    inside a hashing slot; raise SignInBusyError when none frees up in time."""
    if slots is not None and not slots.acquire(timeout=HASH_WAIT_S):
        raise SignInBusyError(BUSY, retry_after=BUSY_RETRY_AFTER_S)
    try:
        return accounts.password_hasher().verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    finally:
        if slots is not None:
            slots.release()


def _record_account_failure(session: Session, user: AdminUser, now: datetime) -> None:
    """Count one failure against the account, from any source. The count is
    incremented in SQL, not read-modify-written, so attempts spread over several app
    instances all count. At ACCOUNT_LOCK_FAILURES within ACCOUNT_WINDOW the account
    locks for LOCKOUT and the other admins are told."""
    session.refresh(user, ["failed_attempts", "first_failed_at", "locked_until"])
    if user.first_failed_at is None or now - user.first_failed_at > ACCOUNT_WINDOW:
        user.failed_attempts = 1
        user.first_failed_at = now
    else:
        user.failed_attempts = AdminUser.failed_attempts + 1
    session.flush()
    session.refresh(user, ["failed_attempts"])
    if user.failed_attempts >= ACCOUNT_LOCK_FAILURES and not is_locked(user, now):
        failures = user.failed_attempts
        user.locked_until = now + LOCKOUT
        user.failed_attempts = 0
        user.first_failed_at = None
        session.flush()
        _announce_lock(session, user, failures, now)


def _announce_lock(session: Session, user: AdminUser, failures: int, now: datetime) -> None:
    """The audit entry and the outbox event (kind and payload; whoever delivers it
    reads ``notify``) for an account-wide lock."""
    assert user.locked_until is not None  # noqa: S101 - just set by the caller
    others = session.scalars(
        select(AdminUser.username).where(
            AdminUser.role == AdminRole.ADMIN, AdminUser.status == AccountStatus.ACTIVE, AdminUser.id != user.id
        )
    ).all()
    payload = {
        "event": EVENT_ACCOUNT_LOCKED,
        "username": user.username,
        "failures": failures,
        "window_minutes": int(ACCOUNT_WINDOW.total_seconds() // 60),
        "locked_until": user.locked_until.isoformat(),
        "notify": sorted(others),
    }
    session.add(
        OutboxMessage(
            event=EVENT_ACCOUNT_LOCKED,
            idempotency_key=f"{EVENT_ACCOUNT_LOCKED}:{user.id}:{int(now.timestamp())}",
            payload=payload,
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.flush()
    details = {"failures": failures, "locked_until": payload["locked_until"], "notified": payload["notify"]}
    audit.append(session, actor="system", action="auth.account_locked", target=user.username, details=details, now=now)


def locked_accounts(session: Session, now: datetime, *, besides: int) -> list[AdminUser]:
    """Accounts locked for everyone right now, but the one with id ``besides``
    (shown on the other admins' console)."""
    rows = session.scalars(
        select(AdminUser).where(AdminUser.locked_until > now, AdminUser.id != besides).order_by(AdminUser.username)
    )
    return list(rows)


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
    slots: threading.BoundedSemaphore | None = None,
) -> AdminUser:
    """Check username, password and TOTP code; return the account or raise
    AuthenticationError (one message for every cause).

    A failure is recorded (and audited) in the caller's transaction, which must be
    committed even though this raises: that is what makes the throttling work. A
    throttled source gets SignInThrottledError (no hash is computed); no free hashing
    slot in ``slots`` gives SignInBusyError.
    """
    typed = username.strip().lower()[: accounts.MAX_USERNAME]
    source = client[:MAX_CLIENT]
    wait = throttle.wait_seconds(session, typed, source, now)
    if wait:
        details: dict[str, object] = {"reason": "throttled", "client": source, "wait_s": wait}
        audit.append(session, actor="anonymous", action="auth.login_failed", target=typed, details=details, now=now)
        minutes = -(-wait // 60)
        raise SignInThrottledError(THROTTLED, params={"minutes": minutes}, retry_after=wait)
    user = accounts.find_account(session, typed) if accounts.USERNAME_RE.match(typed) else None
    password = password[: accounts.MAX_PASSWORD]
    stored = user.password_hash if user is not None and user.password_hash else None
    password_ok = _check_password(stored, password, slots)

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
        in_a_row = throttle.record_failure(session, typed, source, now)
        if user is not None and reason in ("password", "code"):
            _record_account_failure(session, user, now)
        session.flush()
        details = {"reason": reason, "client": source, "failures_from_client": in_a_row}
        if user is not None and user.locked_until is not None and now < user.locked_until:
            details["locked_until"] = user.locked_until.isoformat()
        audit.append(session, actor="anonymous", action="auth.login_failed", target=typed, details=details, now=now)
        raise AuthenticationError(SIGN_IN_FAILED)

    assert user is not None and stored is not None and step is not None  # noqa: S101 - narrowed by the checks above
    throttle.forget(session, typed, source, now)
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
