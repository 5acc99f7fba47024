"""The letter of introduction of an assignment, read-only: everything a printed
letter shows as plain values (``LetterRecord``), the letter an admin may hand out
(one in force), and the one the public side shows for a token it has verified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from keys.errors import N_
from keys.text import display_phone
from registry.assignments.models import Assignment, ContactKind
from registry.assignments.service import get_assignment, last_valid_day, letter_number
from registry.credentials.models import CredentialStatus
from registry.errors import TransitionError
from registry.staff.models import StaffStatus

LETTER_PLACE = "Hà Nội"
MAX_ID = 64


@dataclass(frozen=True, slots=True)
class Channel:
    kind: ContactKind
    value: str  # normal form (E.164 or a case-folded address)
    display: str  # as a person reads it: 0987 654 321


@dataclass(frozen=True, slots=True)
class LetterRecord:
    """Everything a printed letter shows, as plain values (the public side renders it)."""

    id: str
    number: str
    year: int
    issued_at: datetime
    not_before: datetime | None
    expires_at: datetime
    last_day: date
    agency: str
    agency_domain: str | None
    purpose: str
    channels: tuple[Channel, ...]
    staff_code: str
    staff_name: str
    staff_title: str
    staff_unit: str
    place: str


def _channel(entry: dict[str, str]) -> Channel:
    kind = ContactKind(entry["kind"])
    value = entry["value"]
    return Channel(kind=kind, value=value, display=value if kind is ContactKind.EMAIL else display_phone(value))


def letter_record(assignment: Assignment) -> LetterRecord:
    credential = assignment.credential
    staff = credential.staff
    return LetterRecord(
        id=credential.id,
        number=letter_number(assignment),
        year=assignment.letter_year,
        issued_at=credential.issued_at,
        not_before=credential.not_before,
        expires_at=credential.expires_at,
        last_day=last_valid_day(credential.expires_at),
        agency=assignment.agency,
        agency_domain=assignment.agency_domain,
        purpose=assignment.purpose,
        channels=tuple(_channel(c) for c in assignment.channels),
        staff_code=staff.code,
        staff_name=staff.name,
        staff_title=staff.title,
        staff_unit=staff.unit,
        place=LETTER_PLACE,
    )


def printable_letter(session: Session, assignment_id: str, *, now: datetime) -> LetterRecord:
    """The letter of an assignment in force, for the admin to send; raise NotFoundError
    or TransitionError (suspended, revoked, expired, or its holder is not active): a
    letter that would not verify is never handed out."""
    assignment = get_assignment(session, assignment_id)
    credential = assignment.credential
    if credential.status is not CredentialStatus.VALID or credential.staff.status is not StaffStatus.ACTIVE:
        state = (
            credential.status.value
            if credential.status is not CredentialStatus.VALID
            else "held by a staff member who is " + credential.staff.status.value
        )
        raise TransitionError(
            N_("assignment {id} is {status}; its letter is not issued"), params={"id": credential.id, "status": state}
        )
    if credential.expires_at <= now:
        raise TransitionError(N_("assignment {id} has expired; its letter is not issued"), params={"id": credential.id})
    return letter_record(assignment)


def find_letter(session: Session, assignment_id: str) -> LetterRecord | None:
    """The letter of assignment ``assignment_id``, or None. Callers on the public side
    must have verified the token that names it first."""
    if not assignment_id or len(assignment_id) > MAX_ID:
        return None
    assignment = session.get(Assignment, assignment_id)
    return letter_record(assignment) if assignment is not None else None
