"""Admin account services: create, set a password, enrol or reset the authenticator,
one-time setup links, enable/disable, "sign out everywhere"; the account rules
(usernames, passwords, roles, who may change whom). Sign-in is ``signin``.
Like every service here, these functions may flush but never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from keys.errors import N_
from registry.accounts.models import ACCOUNT_TRANSITIONS, AccountStatus, AdminRole, AdminUser, SetupToken
from registry.audit import service as audit
from registry.errors import (
    ConflictError,
    NotFoundError,
    SetupLinkError,
    TransitionError,
    ValidationError,
    allowed,
    found,
)

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MAX_USERNAME = 64
MIN_PASSWORD = 12  # NIST SP 800-63B asks for at least 8; admins hold the keys, so more
MAX_PASSWORD = 256  # bounds the hashing work an attacker can ask for
TOTP_DIGITS = 6
TOTP_PERIOD = 30  # seconds, RFC 6238's default, what every authenticator app uses
TOTP_DRIFT_STEPS = 1  # one step each way: phone clocks drift
TOTP_ISSUER = "chinhdanh"
SETUP_LINK_TTL = timedelta(hours=24)  # long enough to open an email the next morning
SETUP_TOKEN_BYTES = 32
MAX_SETUP_TOKEN = 128

# argon2-cffi's defaults are RFC 9106's second recommended profile (argon2id,
# t=3, m=64 MiB, p=4): a fraction of a second per sign-in, costly to guess offline.
_hasher = PasswordHasher()


def password_hasher() -> PasswordHasher:
    """The one argon2id hasher of the process."""
    return _hasher


def normalize_username(value: str) -> str:
    """Lower-case username, 3-64 of a-z 0-9 . _ -; raise ValidationError."""
    name = value.strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationError(
            N_("username must be 3-64 characters: letters a-z, digits, '.', '_' or '-'"), field="username"
        )
    return name


def validate_password(value: str) -> str:
    """Raise ValidationError unless the password is 12-256 characters without control characters."""
    if len(value) < MIN_PASSWORD:
        raise ValidationError(
            N_("the password must have at least {n} characters"), field="password", params={"n": MIN_PASSWORD}
        )
    if len(value) > MAX_PASSWORD:
        raise ValidationError(
            N_("the password must have at most {n} characters"), field="password", params={"n": MAX_PASSWORD}
        )
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValidationError(N_("the password contains control characters"), field="password")
    return value


def parse_role(value: str) -> AdminRole:
    try:
        return AdminRole(value.strip().lower())
    except ValueError:
        raise ValidationError(N_("role must be admin, issuer or reviewer"), field="role") from None


def _totp_aad(username: str) -> bytes:
    return b"chinhdanh:admin-totp:" + username.encode()


def _set_new_totp(user: AdminUser, master: MasterKey) -> str:
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    user.totp_secret_sealed = master.seal(secret.encode(), _totp_aad(user.username))
    user.totp_last_step = None
    return secret


def totp_secret(master: MasterKey, user: AdminUser) -> str:
    """The opened TOTP secret; raise NotFoundError if none is enrolled."""
    if user.totp_secret_sealed is None:
        raise NotFoundError(N_("account {name} has no authenticator enrolled"), params={"name": user.username})
    return master.open(user.totp_secret_sealed, _totp_aad(user.username)).decode()


def otpauth_uri(master: MasterKey, user: AdminUser) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return otpauth_uri_for(user.username, totp_secret(master, user))


def match_totp_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The TOTP step that ``code`` belongs to (±TOTP_DRIFT_STEPS around ``now``), or
    None if it matches none or a step at or before ``last_step`` (a replay)."""
    code = code.strip().replace(" ", "")
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    current = int(now.timestamp()) // TOTP_PERIOD
    found = None
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def get_account(session: Session, username: str) -> AdminUser:
    return found(
        find_account(session, username), N_("no account {name}"), field="username", name=username[:MAX_USERNAME]
    )


def find_account(session: Session, username: str) -> AdminUser | None:
    name = username.strip().lower()[:MAX_USERNAME]
    return session.scalars(select(AdminUser).where(AdminUser.username == name)).first()


def list_accounts(session: Session) -> list[AdminUser]:
    return list(session.scalars(select(AdminUser).order_by(AdminUser.username)))


def create_account(
    session: Session,
    master: MasterKey,
    *,
    username: str,
    role: AdminRole,
    password: str | None,
    actor: str,
    now: datetime,
) -> AdminUser:
    """Create an account with a fresh authenticator secret. With a password (the CLI)
    it is active at once; without one (the console) it stays ``pending`` until its
    setup link is used. Raise ValidationError or ConflictError."""
    name = normalize_username(username)
    if find_account(session, name) is not None:
        raise ConflictError(N_("account {name} already exists"), field="username", params={"name": name})
    user = AdminUser(
        username=name,
        role=role,
        status=AccountStatus.PENDING,
        failed_attempts=0,
        session_generation=1,
        created_at=now,
        created_by=actor[:64],
    )
    if password is not None:
        user.password_hash = _hasher.hash(validate_password(password))
        user.status = AccountStatus.ACTIVE
    _set_new_totp(user, master)
    session.add(user)
    session.flush()
    details = {"role": role.value, "status": user.status.value}
    audit.append(session, actor=actor, action="account.create", target=name, details=details, now=now)
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_setup_link(session: Session, user: AdminUser, *, actor: str, now: datetime) -> str:
    """Issue a one-time setup token for ``user`` (earlier unused ones stop working);
    returns the token itself, which is shown once and never stored."""
    for old in user.setup_tokens:
        if old.used_at is None:
            old.used_at = now
    token = secrets.token_urlsafe(SETUP_TOKEN_BYTES)
    session.add(
        SetupToken(
            user=user,
            token_hash=_hash_token(token),
            created_at=now,
            expires_at=now + SETUP_LINK_TTL,
            created_by=actor[:64],
        )
    )
    session.flush()
    audit.append(session, actor=actor, action="account.setup_link", target=user.username, now=now)
    return token


def _live_token(session: Session, token: str, now: datetime) -> SetupToken:
    """The valid, unused, unexpired setup token row; raise SetupLinkError."""
    if not token or len(token) > MAX_SETUP_TOKEN:
        raise SetupLinkError("this setup link is not valid: it is unknown, already used or expired")
    row = session.scalars(select(SetupToken).where(SetupToken.token_hash == _hash_token(token))).first()
    if row is None or row.used_at is not None or row.expires_at <= now or row.user.status is AccountStatus.DISABLED:
        raise SetupLinkError("this setup link is not valid: it is unknown, already used or expired")
    return row


def setup_account_for(session: Session, token: str, *, now: datetime) -> AdminUser:
    """The account a valid, unused, unexpired setup token belongs to; raise SetupLinkError."""
    return _live_token(session, token, now).user


def _setup_aad(row: SetupToken) -> bytes:
    return b"chinhdanh:admin-setup-totp:" + row.user.username.encode() + b":" + row.token_hash.encode()


def reveal_setup_secret(session: Session, master: MasterKey, token: str, *, now: datetime) -> str | None:
    """The authenticator secret this setup link enrols, made fresh and returned the
    first time the link is opened, and never again (None): whoever opens the link
    later, or reads the page from a cache, does not see it. Raise SetupLinkError."""
    row = _live_token(session, token, now)
    if row.secret_shown_at is not None:
        return None
    secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
    row.totp_sealed = master.seal(secret.encode(), _setup_aad(row))
    row.secret_shown_at = now
    session.flush()
    return secret


def otpauth_uri_for(username: str, secret: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=username, issuer_name=TOTP_ISSUER
    )


def complete_setup(
    session: Session, master: MasterKey, token: str, *, password: str, code: str, now: datetime
) -> AdminUser:
    """Use a setup link: set the password and prove, with a current code, that the
    authenticator holds the secret the link showed (``reveal_setup_secret``), which
    then replaces the account's. The link is then spent. Raise SetupLinkError or
    ValidationError."""
    row = _live_token(session, token, now)
    user = row.user
    password = validate_password(password)
    secret = master.open(row.totp_sealed, _setup_aad(row)).decode() if row.totp_sealed is not None else None
    step = match_totp_step(secret, code, now=now, last_step=None) if secret else None
    if secret is None or step is None:
        raise ValidationError(N_("the code from the authenticator app is not right; try the next one"), field="code")
    user.totp_secret_sealed = master.seal(secret.encode(), _totp_aad(user.username))
    user.password_hash = _hasher.hash(password)
    user.totp_last_step = step
    user.status = AccountStatus.ACTIVE
    user.failed_attempts = 0
    user.first_failed_at = None
    user.locked_until = None
    user.session_generation += 1
    for each in user.setup_tokens:
        if each.used_at is None:
            each.used_at = now
    row.totp_sealed = None
    session.flush()
    audit.append(session, actor=user.username, action="account.setup_complete", target=user.username, now=now)
    return user


def set_password(session: Session, user: AdminUser, password: str, *, actor: str, now: datetime) -> None:
    """Replace the password; every open session of the account ends."""
    user.password_hash = _hasher.hash(validate_password(password))
    user.session_generation += 1
    session.flush()
    audit.append(session, actor=actor, action="account.set_password", target=user.username, now=now)


def reset_totp(session: Session, master: MasterKey, user: AdminUser, *, actor: str, now: datetime) -> str:
    """Replace a lost authenticator: a new secret, the old one stops working and every
    open session ends. Returns the new otpauth URI."""
    _set_new_totp(user, master)
    user.session_generation += 1
    session.flush()
    audit.append(session, actor=actor, action="account.reset_2fa", target=user.username, now=now)
    return otpauth_uri(master, user)


def reset_by_link(session: Session, master: MasterKey, user: AdminUser, *, actor: str, now: datetime) -> str:
    """The console's reset: the account goes back to ``pending`` with a new
    authenticator secret and a new setup link (returned), where its owner sets a new
    password and enrols again."""
    if user.status is not AccountStatus.PENDING:
        change_status(session, user, AccountStatus.PENDING, actor=actor, now=now)
    _set_new_totp(user, master)
    user.password_hash = None
    user.session_generation += 1
    session.flush()
    audit.append(session, actor=actor, action="account.reset", target=user.username, now=now)
    return create_setup_link(session, user, actor=actor, now=now)


def change_status(session: Session, user: AdminUser, to: AccountStatus, *, actor: str, now: datetime) -> AdminUser:
    """Enable, disable or send back to setup; raise TransitionError. Open sessions end."""
    allowed(
        ACCOUNT_TRANSITIONS, user.status, to, N_("account {name} is {status}; cannot become {to}"), name=user.username
    )
    if to is AccountStatus.ACTIVE and user.password_hash is None:
        raise TransitionError(
            N_("account {name} has no password yet; send it a setup link"), params={"name": user.username}
        )
    previous = user.status
    user.status = to
    user.session_generation += 1
    if to is AccountStatus.ACTIVE:
        user.failed_attempts = 0
        user.first_failed_at = None
        user.locked_until = None
    session.flush()
    details = {"from": previous.value}
    audit.append(session, actor=actor, action=f"account.{to.value}", target=user.username, details=details, now=now)
    return user


def sign_out_everywhere(session: Session, user: AdminUser, *, actor: str, now: datetime) -> None:
    """End every session of the account, on every device."""
    user.session_generation += 1
    session.flush()
    audit.append(session, actor=actor, action="account.sign_out_everywhere", target=user.username, now=now)


def change_status_of_other(
    session: Session, user: AdminUser, to: AccountStatus, *, by: AdminUser, now: datetime
) -> AdminUser:
    """The console's enable or disable of ``user`` by the admin ``by``: never one's
    own account, and back to setup only through ``reset_other``; raise
    ValidationError or TransitionError."""
    if to is AccountStatus.PENDING:
        raise ValidationError("use the reset button to send an account back to setup", field="to")
    if by.id == user.id:
        raise ValidationError(N_("You cannot change the status of your own account."), field="to")
    return change_status(session, user, to, actor=by.username, now=now)


def reset_other(session: Session, master: MasterKey, user: AdminUser, *, by: AdminUser, now: datetime) -> str:
    """The console's reset of ``user`` by the admin ``by`` (``reset_by_link``), never
    of one's own account; returns the new setup link's token."""
    if by.id == user.id:
        raise ValidationError(N_("You cannot reset your own account here; ask another admin."), field="username")
    return reset_by_link(session, master, user, actor=by.username, now=now)


def reseal_totp(session: Session, old: MasterKey, new: MasterKey) -> int:
    """Re-encrypt every admin's TOTP secret from ``old`` to ``new`` in the caller's
    transaction (``keys reseal``); raise MasterKeyError if ``old`` opens one not."""
    users = session.scalars(select(AdminUser).where(AdminUser.totp_secret_sealed.is_not(None)).order_by(AdminUser.id))
    count = 0
    for user in users:
        aad = _totp_aad(user.username)
        user.totp_secret_sealed = new.seal(old.open(user.totp_secret_sealed or b"", aad), aad)
        count += 1
    session.flush()
    return count
