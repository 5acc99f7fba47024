"""Live codes: a staff member's authenticator (RFC 6238 TOTP, 6 digits, 30 s) that an
agency checks on the phone with the staff code.

Secrets are sealed under the master key, bound to the staff code. A code is accepted
with one step of drift each way and only once. Five wrong codes within 15 minutes
lock the staff code for everyone until 15 minutes after the last of them. All of
this state is in the database and every decisive write is a single conditional
statement, so several app instances enforce it together.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from keys.errors import N_
from registry.alerts import service as alerts
from registry.audit import service as audit
from registry.errors import ValidationError
from registry.fields import normalize_code
from registry.livecode.models import LiveCodeFailure, LiveCodeSecret
from registry.queries import StaffCard, staff_card
from registry.staff.models import Staff, StaffStatus

TOTP_DIGITS = 6  # what every authenticator app shows by default
TOTP_PERIOD_S = 30  # RFC 6238's default step; apps assume it
TOTP_DRIFT_STEPS = 1  # one step each way: phone clocks drift and people read codes slowly
MAX_FAILURES = 5  # wrong codes within the window before the staff code locks
FAILURE_WINDOW = timedelta(minutes=15)  # both the counting window and the lock length
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommended HMAC-SHA1 key length
MIN_SECRET_BASE32 = 16  # 80 bits: RFC 4226's floor for an imported secret
MAX_SECRET_BASE32 = 128
BASE32_RE = re.compile(r"^[A-Z2-7]+=*$")
ISSUER = "Ban TĐKT Trung ương"  # shown by the authenticator app next to the staff code


@dataclass(frozen=True, slots=True)
class LiveCodeResult:
    """The answer, and what the officer may see: the card (never the secret), and for
    ``locked`` until when."""

    answer: LiveCodeAnswer
    staff_code: str
    checked_at: datetime
    staff: StaffCard | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Enrolment:
    staff_code: str
    otpauth_uri: str


class LiveCodeAnswer(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    LOCKED = "locked"
    UNKNOWN_STAFF = "unknown_staff"


def _aad(staff_code: str) -> bytes:
    # binds the sealed secret to its owner: copying the blob to another row fails to open
    return b"live-code-secret:" + staff_code.encode("ascii")


def normalize_live_code(value: str) -> str:
    """Six digits, spaces allowed in between ("123 456"); raise ValidationError."""
    code = "".join(value.split())
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        raise ValidationError(N_("the live code is {n} digits"), field="code", params={"n": TOTP_DIGITS})
    return code


def enrol(
    session: Session, master: MasterKey, staff_code: str, *, actor: str, now: datetime, secret: str | None = None
) -> Enrolment:
    """Give ``staff_code`` a new authenticator secret (replacing any earlier one) and
    return the otpauth URI to load into an app. ``secret`` (base32) carries over an
    authenticator that already exists; by default a random one is made. Raise
    ValidationError (bad code, not an active staff member, or a weak secret)."""
    code = normalize_code(staff_code)
    staff = session.scalars(select(Staff).where(Staff.code == code)).first()
    if staff is None or staff.status is not StaffStatus.ACTIVE:
        raise ValidationError(N_("{code} is not an active staff member"), field="code", params={"code": code})
    if secret is None:
        secret = pyotp.random_base32(length=SECRET_BYTES * 8 // 5)
    else:
        secret = secret.replace(" ", "").upper().rstrip("=")
        if not MIN_SECRET_BASE32 <= len(secret) <= MAX_SECRET_BASE32 or not BASE32_RE.match(secret):
            raise ValidationError(N_("the secret must be base32 of at least 80 bits"), field="secret")
    sealed = master.seal(secret.encode("ascii"), _aad(code))
    row = session.scalars(select(LiveCodeSecret).where(LiveCodeSecret.staff_id == staff.id)).first()
    if row is None:
        session.add(
            LiveCodeSecret(
                staff_id=staff.id, secret_sealed=sealed, last_used_step=None, enrolled_at=now, enrolled_by=actor[:64]
            )
        )
    else:
        row.secret_sealed = sealed
        row.last_used_step = None
        row.enrolled_at = now
        row.enrolled_by = actor[:64]
    session.execute(delete(LiveCodeFailure).where(LiveCodeFailure.staff_id == staff.id))
    session.flush()
    audit.append(session, actor=actor, action="live_code.enrol", target=code, now=now)
    uri = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_S).provisioning_uri(name=code, issuer_name=ISSUER)
    return Enrolment(staff_code=code, otpauth_uri=uri)


def is_enrolled(session: Session, staff_code: str) -> bool:
    return (
        session.scalars(
            select(LiveCodeSecret.id).join(Staff, Staff.id == LiveCodeSecret.staff_id).where(Staff.code == staff_code)
        ).first()
        is not None
    )


def lock_state(session: Session, staff_id: int, *, at: datetime) -> datetime | None:
    """Until when ``staff_id`` is locked at ``at``, or None. Locked when the last
    ``MAX_FAILURES`` failures all fall within one window and the newest is less
    than a window ago."""
    recent = list(
        session.scalars(
            select(LiveCodeFailure.at)
            .where(LiveCodeFailure.staff_id == staff_id, LiveCodeFailure.at > at - 2 * FAILURE_WINDOW)
            .order_by(LiveCodeFailure.at.desc())
            .limit(MAX_FAILURES)
        )
    )
    if len(recent) < MAX_FAILURES:
        return None
    newest, oldest = recent[0], recent[-1]
    if newest - oldest > FAILURE_WINDOW:
        return None
    until = newest + FAILURE_WINDOW
    return until if at < until else None


def _matching_step(secret: str, code: str, at: datetime) -> int | None:
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_S)
    current = totp.timecode(at)
    found = None
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        # compare every candidate, constant-time, so timing says nothing about which matched
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def _record_failure(session: Session, staff_id: int, code: str, *, at: datetime) -> datetime | None:
    """Log one wrong code, prune what no window can need, and return the lock it starts."""
    session.execute(
        delete(LiveCodeFailure).where(
            LiveCodeFailure.staff_id == staff_id, LiveCodeFailure.at < at - 2 * FAILURE_WINDOW
        )
    )
    session.add(LiveCodeFailure(staff_id=staff_id, at=at))
    session.flush()
    until = lock_state(session, staff_id, at=at)
    if until is not None:
        details = {"until": until.isoformat()}
        audit.append(session, actor="public", action="live_code.locked", target=code, details=details, now=at)
    return until


def check_code(session: Session, master: MasterKey, staff_code: str, code: str, *, at: datetime) -> LiveCodeResult:
    """Check the live ``code`` a caller gave for ``staff_code`` at time ``at``.

    Answers ``unknown_staff`` (no active staff member with a live code), ``locked``
    (checked before the code, so a lock holds even against the right code),
    ``valid`` (the code matches a step within the drift and later than any step
    used before) or ``invalid`` (which is counted toward the lock). Writes the
    failure or the used step; the caller commits, whatever the answer. Raises
    ValidationError for a malformed staff code or live code.
    """
    normal_code = normalize_code(staff_code)
    digits = normalize_live_code(code)
    card = staff_card(session, normal_code)
    row = session.execute(
        select(Staff.id, Staff.status, LiveCodeSecret.id.label("secret_id"), LiveCodeSecret.secret_sealed)
        .join(LiveCodeSecret, LiveCodeSecret.staff_id == Staff.id)
        .where(Staff.code == normal_code)
    ).first()
    if row is None or card is None or row.status is not StaffStatus.ACTIVE:
        return LiveCodeResult(LiveCodeAnswer.UNKNOWN_STAFF, normal_code, at, staff=card)
    until = lock_state(session, row.id, at=at)
    if until is not None:
        return LiveCodeResult(LiveCodeAnswer.LOCKED, normal_code, at, staff=card, locked_until=until)
    secret = master.open(row.secret_sealed, _aad(normal_code)).decode("ascii")
    step = _matching_step(secret, digits, at)
    if step is not None:
        # one conditional UPDATE: of two instances racing with the same code, one wins
        used = session.execute(
            update(LiveCodeSecret)
            .where(
                LiveCodeSecret.id == row.secret_id,
                (LiveCodeSecret.last_used_step.is_(None)) | (LiveCodeSecret.last_used_step < step),
            )
            .values(last_used_step=step)
        )
        if used.rowcount == 1:  # type: ignore[attr-defined]
            return LiveCodeResult(LiveCodeAnswer.VALID, normal_code, at, staff=card)
    _record_failure(session, row.id, normal_code, at=at)
    alerts.wrong_live_code(session, row.id, at=at)  # the person whose code it is learns of it
    # the fifth wrong code itself answers invalid; the lock applies from the next check
    return LiveCodeResult(LiveCodeAnswer.INVALID, normal_code, at, staff=card)


def reseal_secrets(session: Session, old: MasterKey, new: MasterKey) -> int:
    """Re-encrypt every live-code secret from ``old`` to ``new`` in the caller's
    transaction (``keys reseal``); raise MasterKeyError if ``old`` opens one not."""
    rows = session.execute(
        select(LiveCodeSecret, Staff.code).join(Staff, Staff.id == LiveCodeSecret.staff_id).order_by(LiveCodeSecret.id)
    )
    count = 0
    for secret, code in rows:
        secret.secret_sealed = new.seal(old.open(secret.secret_sealed, _aad(code)), _aad(code))
        count += 1
    session.flush()
    return count
