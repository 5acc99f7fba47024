"""Staff services: add, import from CSV, list, and status changes. A status change
re-writes the status-list entries of every credential the person holds, in the same
transaction, so online and offline verifiers see it at once."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry import audit
from registry.errors import N_, ConflictError, ImportRowsError, NotFoundError, TransitionError, ValidationError
from registry.models import STAFF_TRANSITIONS, Staff, StaffStatus
from registry.normalize import (
    MAX_NAME,
    clean_text,
    fold_name,
    normalize_code,
    normalize_email,
    normalize_phone,
)

MAX_TITLE = 200
MAX_UNIT = 200
MAX_REASON = 500
MAX_PHOTO_BYTES = 2 * 1024 * 1024
CSV_HEADER = ["code", "name", "title", "unit", "phone", "email"]
MAX_IMPORT_ROWS = 100_000


@dataclass(frozen=True)
class StaffInput:
    """A validated staff record, before it touches the database."""

    code: str
    name: str
    title: str
    unit: str
    phone: str | None
    email: str | None


def validate_staff(
    *, code: str, name: str, title: str, unit: str, phone: str | None = None, email: str | None = None
) -> StaffInput:
    """Check and normalise every field; raise ValidationError naming the field."""
    return StaffInput(
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
    staff = find_staff(session, code)
    if staff is None:
        raise NotFoundError(N_("no staff member with code {code}"), field="code", params={"code": code})
    return staff


def _apply(staff: Staff, data: StaffInput) -> None:
    staff.name = data.name
    staff.name_folded = fold_name(data.name)
    staff.title = data.title
    staff.unit = data.unit
    staff.phone = data.phone
    staff.email = data.email


def add_staff(
    session: Session,
    data: StaffInput,
    *,
    actor: str,
    now: datetime,
    photo: bytes | None = None,
    photo_mime: str | None = None,
) -> Staff:
    """Create a staff member; raise ConflictError if the code exists."""
    if find_staff(session, data.code) is not None:
        raise ConflictError(N_("staff code {code} already exists"), field="code", params={"code": data.code})
    staff = Staff(code=data.code, status=StaffStatus.ACTIVE, created_at=now, updated_at=now)
    _apply(staff, data)
    if photo is not None:
        set_photo(staff, photo, photo_mime)
    session.add(staff)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="staff.add",
        target=staff.code,
        details={"name": staff.name, "title": staff.title, "unit": staff.unit},
        now=now,
    )
    return staff


def update_staff(session: Session, staff: Staff, data: StaffInput, *, actor: str, now: datetime) -> Staff:
    """Change a staff member's details (the code stays)."""
    before = {"name": staff.name, "title": staff.title, "unit": staff.unit, "phone": staff.phone, "email": staff.email}
    _apply(staff, StaffInput(staff.code, data.name, data.title, data.unit, data.phone, data.email))
    staff.updated_at = now
    after = {"name": staff.name, "title": staff.title, "unit": staff.unit, "phone": staff.phone, "email": staff.email}
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    session.flush()
    if changed:
        audit.append(session, actor=actor, action="staff.update", target=staff.code, details=changed, now=now)
    return staff


def set_photo(staff: Staff, photo: bytes, mime: str | None) -> None:
    if len(photo) > MAX_PHOTO_BYTES:
        raise ValidationError(N_("photo is larger than 2 MB"), field="photo")
    if mime not in ("image/jpeg", "image/png", "image/webp"):
        raise ValidationError(N_("photo must be JPEG, PNG or WebP"), field="photo")
    staff.photo = photo
    staff.photo_mime = mime


def list_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.code)))


_STAFF_VERB = {StaffStatus.ACTIVE: "reinstate", StaffStatus.SUSPENDED: "suspend", StaffStatus.DEPARTED: "depart"}


def change_status(
    session: Session, code: str, to: StaffStatus, *, actor: str, now: datetime, reason: str | None = None
) -> Staff:
    """Suspend, reinstate or record a departure; raise TransitionError if the
    lifecycle forbids it. Every credential of the person follows at once."""
    from registry.credentials import sync_status_entries

    staff = get_staff(session, code)
    if to not in STAFF_TRANSITIONS[staff.status]:
        raise TransitionError(
            N_("staff {code} is {status}; cannot become {to}"),
            params={"code": staff.code, "status": staff.status.value, "to": to.value},
        )
    previous = staff.status
    staff.status = to
    staff.status_reason = clean_text(reason, field="reason", max_len=MAX_REASON) if reason else None
    staff.updated_at = now
    session.flush()
    sync_status_entries(session, staff, now=now)
    audit.append(
        session,
        actor=actor,
        action=f"staff.{_STAFF_VERB[to]}",
        target=staff.code,
        details={"from": previous.value, "reason": staff.status_reason},
        now=now,
    )
    return staff


def parse_csv(text: str) -> list[StaffInput]:
    """Validate a whole CSV (header code,name,title,unit,phone,email).

    Returns every row validated, or raises ImportRowsError naming each bad row by its
    line number: nothing is written unless every row is good.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRowsError({1: ["the file is empty"]}) from None
    if header != CSV_HEADER:
        raise ImportRowsError({1: [f"header must be {','.join(CSV_HEADER)}"]})
    rows: list[StaffInput] = []
    problems: dict[int, list[str]] = {}
    seen: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(problems) >= MAX_IMPORT_ROWS:
            problems[line] = [f"more than {MAX_IMPORT_ROWS} rows"]
            break
        if len(values) != len(CSV_HEADER):
            problems[line] = [f"expected {len(CSV_HEADER)} columns, found {len(values)}"]
            continue
        fields = dict(zip(CSV_HEADER, values, strict=True))
        errors: list[str] = []
        try:
            row = validate_staff(**fields)
        except ValidationError as exc:
            errors.append(exc.message)
            row = None
        if row is not None and row.code in seen:
            errors.append(f"code {row.code} repeats line {seen[row.code]}")
        if errors:
            problems[line] = errors
        elif row is not None:
            seen[row.code] = line
            rows.append(row)
    if problems:
        raise ImportRowsError(problems)
    return rows


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def import_staff(session: Session, rows: list[StaffInput], *, actor: str, now: datetime) -> ImportResult:
    """Create or update by code; importing the same file twice changes nothing."""
    created, updated, unchanged = [], [], []
    for row in rows:
        staff = find_staff(session, row.code)
        if staff is None:
            add_staff(session, row, actor=actor, now=now)
            created.append(row.code)
            continue
        same = (staff.name, staff.title, staff.unit, staff.phone, staff.email) == (
            row.name,
            row.title,
            row.unit,
            row.phone,
            row.email,
        )
        if same:
            unchanged.append(row.code)
        else:
            update_staff(session, staff, row, actor=actor, now=now)
            updated.append(row.code)
    return ImportResult(created, updated, unchanged)
