"""Staff services: validate, add, update, find, search, list, and status changes. A
status change re-writes the status-list entries of every credential the person
holds, in the same transaction, so online and offline verifiers see it at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from keys.errors import N_
from keys.text import fold_name, parse_email, parse_phone
from registry.audit import service as audit
from registry.credentials.entries import sync_status_entries
from registry.errors import ConflictError, allowed, found
from registry.fields import MAX_NAME, clean_text, normalize_code, normalize_email, normalize_phone
from registry.staff.models import STAFF_TRANSITIONS, Staff, StaffDetails, StaffStatus
from registry.staff.photos import normalize_photo, set_photo

MAX_TITLE = 200
MAX_UNIT = 200
MAX_REASON = 500


def validate_staff(
    *, code: str, name: str, title: str, unit: str, phone: str | None = None, email: str | None = None
) -> StaffDetails:
    """Check and normalise every field; raise ValidationError naming the field."""
    return StaffDetails(
        code=normalize_code(code),
        name=clean_text(name, field="name", max_len=MAX_NAME),
        title=clean_text(title, field="title", max_len=MAX_TITLE),
        unit=clean_text(unit, field="unit", max_len=MAX_UNIT),
        phone=normalize_phone(phone) if phone and phone.strip() else None,
        email=normalize_email(email) if email and email.strip() else None,
    )


def find_staff(session: Session, code: str) -> Staff | None:
    return session.scalars(select(Staff).where(Staff.code == code.strip().upper())).first()


def get_staff(session: Session, code: str) -> Staff:
    return found(find_staff(session, code), N_("no staff member with code {code}"), field="code", code=code)


def _apply(staff: Staff, data: StaffDetails) -> None:
    staff.name = data.name
    staff.name_folded = fold_name(data.name)
    staff.title = data.title
    staff.unit = data.unit
    staff.phone = data.phone
    staff.email = data.email


def add_staff(
    session: Session,
    data: StaffDetails,
    *,
    actor: str,
    now: datetime,
    photo: bytes | None = None,
) -> Staff:
    """Create a staff member, with ``photo`` as an upload (``photos.normalize_photo``
    makes it the card's photo); raise ConflictError if the code exists."""
    if find_staff(session, data.code) is not None:
        raise ConflictError(N_("staff code {code} already exists"), field="code", params={"code": data.code})
    staff = Staff(code=data.code, status=StaffStatus.ACTIVE, created_at=now, updated_at=now)
    _apply(staff, data)
    if photo is not None:
        set_photo(staff, normalize_photo(photo), "image/jpeg")
    session.add(staff)
    session.flush()
    details = {"name": staff.name, "title": staff.title, "unit": staff.unit}
    audit.append(session, actor=actor, action="staff.add", target=staff.code, details=details, now=now)
    return staff


def update_staff(session: Session, staff: Staff, data: StaffDetails, *, actor: str, now: datetime) -> Staff:
    """Change a staff member's details (the code stays)."""
    before = {"name": staff.name, "title": staff.title, "unit": staff.unit, "phone": staff.phone, "email": staff.email}
    _apply(staff, StaffDetails(staff.code, data.name, data.title, data.unit, data.phone, data.email))
    staff.updated_at = now
    after = {"name": staff.name, "title": staff.title, "unit": staff.unit, "phone": staff.phone, "email": staff.email}
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    session.flush()
    if changed:
        audit.append(session, actor=actor, action="staff.update", target=staff.code, details=changed, now=now)
    return staff


def list_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.code)))


def search_staff(
    session: Session, text: str = "", *, status: StaffStatus | None = None, limit: int, offset: int = 0
) -> tuple[list[Staff], int]:
    """Staff by code, ordered, of one ``status`` if given, matching ``text`` if any: a
    code that starts with it, a name that contains it without diacritics, or its
    phone number or email address in any written form. Returns one page of them and
    how many match."""
    query = select(Staff)
    if status is not None:
        query = query.where(Staff.status == status)
    text = text.strip()
    if text:
        conditions = [Staff.code.startswith(text.upper(), autoescape=True)]
        folded = fold_name(text)
        if folded:
            conditions.append(Staff.name_folded.contains(folded, autoescape=True))
        phone = parse_phone(text)
        if phone:
            conditions.append(Staff.phone == phone)
        email = parse_email(text)
        if email:
            conditions.append(Staff.email == email)
        query = query.where(or_(*conditions))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    people = list(session.scalars(query.order_by(Staff.code).limit(limit).offset(offset)))
    return people, total


_STAFF_VERB = {StaffStatus.ACTIVE: "reinstate", StaffStatus.SUSPENDED: "suspend", StaffStatus.DEPARTED: "depart"}


def change_status(
    session: Session, code: str, to: StaffStatus, *, actor: str, now: datetime, reason: str | None = None
) -> Staff:
    """Suspend, reinstate or record a departure; raise TransitionError if the
    lifecycle forbids it. Every credential of the person follows at once."""
    staff = get_staff(session, code)
    allowed(STAFF_TRANSITIONS, staff.status, to, N_("staff {code} is {status}; cannot become {to}"), code=staff.code)
    previous = staff.status
    staff.status = to
    staff.status_reason = clean_text(reason, field="reason", max_len=MAX_REASON) if reason else None
    staff.updated_at = now
    session.flush()
    sync_status_entries(session, staff, now=now)
    details = {"from": previous.value, "reason": staff.status_reason}
    audit.append(session, actor=actor, action=f"staff.{_STAFF_VERB[to]}", target=staff.code, details=details, now=now)
    return staff
