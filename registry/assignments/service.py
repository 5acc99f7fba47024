"""Assignment services: issue a signed letter of introduction (giấy giới thiệu) that
sends one staff member to one agency for one purpose, list them, and suspend,
reinstate or revoke them like any credential.

An assignment is a ``Credential`` of kind ASSIGNMENT (same keys, same status lists,
``typ: assignment+jwt``) whose token adds exactly the claims of the public contract:
``agency``, optional ``agency_domain`` and ``purpose``. Its window is short and ends
at the last second of a day in Viet Nam time, so the letter can say "valid until the end of
dd/mm/yyyy" and mean it. The letter's number and the channels the staff member will
use are stored beside it, not signed: every signed byte makes the QR code denser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys.contract import VN_TZ, verification_url
from keys.crypto import MasterKey
from keys.errors import N_
from registry import qr
from registry.assignments.models import Assignment, ContactKind
from registry.audit import service as audit
from registry.credentials import service as credentials
from registry.credentials.entries import holder_cards_block
from registry.credentials.models import Credential, CredentialKind, CredentialStatus
from registry.errors import TransitionError, ValidationError, found
from registry.fields import clean_text, normalize_email, normalize_phone
from registry.staff.models import Staff, StaffStatus
from registry.staff.service import get_staff

DEFAULT_DAYS = 14  # two weeks: time to arrange an interview and write the article
END_OF_DAY = time(23, 59, 59)  # a token counts whole seconds
MAX_DAYS = 60  # days to weeks, never months: a stale letter is an impostor's tool
# Realistic names at these bounds give QR version 32 at error correction M; text of
# nothing but three-byte letters could pass them and still overflow, so the signed
# token's QR code is measured too (MAX_QR_VERSION).
MAX_AGENCY = 200  # the longest official agency names are about 120 characters
MAX_PURPOSE = 200
MAX_CHANNELS = 5
MAX_QR_VERSION = 33  # 149 modules: 0.27 mm each in the letter's 40 mm code, still read by phones
MAX_CHANNEL_INPUT = 300  # "kind:value" as typed, before normalisation
LETTER_SYMBOL = "GGT-TTTT"  # giấy giới thiệu, drafted by the Centre (TTTT) for the Board
_DOMAIN_RE = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True, slots=True)
class AssignmentInput:
    """A validated assignment request, before it touches the database."""

    agency: str
    agency_domain: str | None
    purpose: str
    channels: tuple[tuple[ContactKind, str], ...]
    days: int


def normalize_domain(value: str) -> str:
    """An agency's official email domain, lower case (``@`` allowed in front); raise
    ValidationError. Internationalised names must be given in their ASCII form."""
    domain = value.strip().lower().removeprefix("@")
    if not _DOMAIN_RE.match(domain):
        raise ValidationError(N_("agency_domain is not a domain name such as khanhhoa.gov.vn"), field="agency_domain")
    return domain


def parse_channel(value: str) -> tuple[ContactKind, str]:
    """``kind:value`` (phone, email or zalo) in its normal form; raise ValidationError."""
    if len(value) > MAX_CHANNEL_INPUT:
        raise ValidationError(N_("a channel is far too long"), field="channel")
    kind_text, sep, rest = value.partition(":")
    kinds = ", ".join(k.value for k in ContactKind)
    if not sep:
        raise ValidationError(
            N_("a channel is kind:value, kind one of {kinds}"), field="channel", params={"kinds": kinds}
        )
    try:
        kind = ContactKind(kind_text.strip().lower())
    except ValueError:
        raise ValidationError(
            N_("channel kind must be one of {kinds}"), field="channel", params={"kinds": kinds}
        ) from None
    if kind is ContactKind.EMAIL:
        return kind, normalize_email(rest, field="channel")
    return kind, normalize_phone(rest, field="channel")


def validate_assignment(
    *,
    agency: str,
    agency_domain: str | None,
    purpose: str,
    channels: Sequence[str] = (),
    days: int = DEFAULT_DAYS,
) -> AssignmentInput:
    """Check and normalise every field; raise ValidationError naming the field."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(N_("days must be between 1 and {max}"), field="days", params={"max": MAX_DAYS})
    if len(channels) > MAX_CHANNELS:
        raise ValidationError(N_("at most {max} channels"), field="channel", params={"max": MAX_CHANNELS})
    parsed: list[tuple[ContactKind, str]] = []
    for raw in channels:
        channel = parse_channel(raw)
        if channel not in parsed:
            parsed.append(channel)
    return AssignmentInput(
        agency=clean_text(agency, field="agency", max_len=MAX_AGENCY),
        agency_domain=normalize_domain(agency_domain) if agency_domain and agency_domain.strip() else None,
        purpose=clean_text(purpose, field="purpose", max_len=MAX_PURPOSE),
        channels=tuple(parsed),
        days=days,
    )


def window_end(now: datetime, days: int) -> datetime:
    """The last second of the ``days``-th day after today, Viet Nam time (in UTC), so
    that the expiry's own date in Viet Nam is the day the letter names."""
    last_day = now.astimezone(VN_TZ).date() + timedelta(days=days)
    return datetime.combine(last_day, END_OF_DAY, tzinfo=VN_TZ).astimezone(UTC)


def last_valid_day(expires_at: datetime) -> date:
    """The date a letter is valid "until the end of", in Viet Nam time."""
    return expires_at.astimezone(VN_TZ).date()


def _default_channels(staff: Staff) -> list[dict[str, str]]:
    found = []
    if staff.phone:
        found.append({"kind": ContactKind.PHONE.value, "value": staff.phone})
    if staff.email:
        found.append({"kind": ContactKind.EMAIL.value, "value": staff.email})
    return found


def issue_assignment(
    session: Session,
    master: MasterKey,
    *,
    staff_code: str,
    agency: str,
    agency_domain: str | None,
    purpose: str,
    channels: Sequence[str] = (),
    days: int = DEFAULT_DAYS,
    base_url: str,
    now: datetime,
    actor: str,
) -> Assignment:
    """Sign an assignment of ``staff_code`` to ``agency`` for ``purpose``, valid from
    now until the end of the ``days``-th day after today (Viet Nam time). Without
    ``channels`` the letter lists the staff member's official phone and email.

    Returns the stored assignment (its ``credential`` holds the token). Raise
    ValidationError, NotFoundError (no such staff), TransitionError (the staff member
    is not active, or has cards and none valid) or keys' NoActiveKeyError.
    """
    data = validate_assignment(
        agency=agency, agency_domain=agency_domain, purpose=purpose, channels=channels, days=days
    )
    staff = get_staff(session, staff_code)
    if staff.status is not StaffStatus.ACTIVE:
        raise TransitionError(
            N_("staff {code} is {status}; no assignment can be issued"),
            params={"code": staff.code, "status": staff.status.value},
        )
    if holder_cards_block(session, staff):
        raise TransitionError(
            N_("staff {code} holds no valid card; issue or reinstate their card first"), params={"code": staff.code}
        )
    now = now.replace(microsecond=0)
    claims: dict[str, Any] = {"agency": data.agency}
    if data.agency_domain:
        claims["agency_domain"] = data.agency_domain
    claims["purpose"] = data.purpose
    credential = credentials.sign_credential(
        session,
        master,
        staff=staff,
        kind=CredentialKind.ASSIGNMENT,
        base_url=base_url,
        now=now,
        expires_at=window_end(now, data.days),
        not_before=now,
        actor=actor,
        extra_claims=claims,
    )
    version = qr_version(verification_url(base_url, credential.token))
    if version is None or version > MAX_QR_VERSION:
        # raised before anything is committed: the caller's rollback undoes the signing
        raise ValidationError(
            N_("agency and purpose together are too long for a QR code a phone can read; shorten them"),
            field="purpose",
        )
    # sign_credential reserved a status-list entry first, which queues concurrent
    # issuers (row lock or SQLite write lock), so max + 1 cannot be handed out twice
    year = now.astimezone(VN_TZ).year
    last = session.scalar(select(func.max(Assignment.letter_seq)).where(Assignment.letter_year == year))
    assignment = Assignment(
        credential_id=credential.id,
        agency=data.agency,
        agency_domain=data.agency_domain,
        purpose=data.purpose,
        channels=[{"kind": k.value, "value": v} for k, v in data.channels] or _default_channels(staff),
        letter_year=year,
        letter_seq=(last or 0) + 1,
        credential=credential,
    )
    session.add(assignment)
    session.flush()
    details = {
        "staff": staff.code,
        "agency": data.agency,
        "agency_domain": data.agency_domain,
        "purpose": data.purpose,
        "letter": letter_number(assignment),
        "not_before": now.isoformat(),
        "expires_at": credential.expires_at.isoformat(),
        "kid": credential.key.kid,
    }
    audit.append(session, actor=actor, action="assignment.issue", target=credential.id, details=details, now=now)
    return assignment


def qr_version(url: str) -> int | None:
    """The QR version (1-40) that encodes ``url`` at the letter's error level, or
    None if no QR code can hold it."""
    try:
        return int(qr.describe(url)["version"])
    except ValueError:  # the encoder's "input too long for this error level"
        return None


def letter_number(assignment: Assignment) -> str:
    """The number printed after "Số:", e.g. ``07/GGT-TTTT`` (the year is in the date)."""
    return f"{assignment.letter_seq:02d}/{LETTER_SYMBOL}"


def get_assignment(session: Session, assignment_id: str) -> Assignment:
    """The assignment whose credential id (the token's ``jti``) is ``assignment_id``;
    raise NotFoundError."""
    assignment = session.get(Assignment, assignment_id.strip()) if len(assignment_id) <= 64 else None
    return found(assignment, N_("no assignment {id}"), field="id", id=assignment_id)


def change_status(
    session: Session,
    assignment_id: str,
    to: CredentialStatus,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> Assignment:
    """Suspend, reinstate or revoke an assignment (audited as ``assignment.<verb>``);
    raise NotFoundError (also for a staff credential's id) or TransitionError."""
    assignment = get_assignment(session, assignment_id)
    credentials.change_status(
        session, assignment.credential_id, to, actor=actor, now=now, reason=reason, kind=CredentialKind.ASSIGNMENT
    )
    return assignment


def list_assignments(session: Session, *, staff_code: str | None = None) -> list[Assignment]:
    """Every assignment, newest first, optionally of one staff member."""
    query = (
        select(Assignment)
        .join(Credential, Credential.id == Assignment.credential_id)
        .join(Staff, Staff.id == Credential.staff_id)
        .order_by(Credential.issued_at.desc(), Assignment.letter_year.desc(), Assignment.letter_seq.desc())
    )
    if staff_code:
        query = query.where(Staff.code == staff_code.strip().upper())
    return list(session.scalars(query))
