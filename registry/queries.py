"""Read-only queries that the public side (``verify``) may use. They return plain
frozen dataclasses, never ORM objects, so nothing outside the registry can change
registry state through them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select
from sqlalchemy.orm import Session

from keys.models import KeyPurpose, KeyState, SigningKey
from registry.models import Credential, CredentialKind, CredentialStatus, Staff, StaffStatus


@dataclass(frozen=True, slots=True)
class StaffCard:
    """What a printed card shows about a person, plus their official contacts."""

    code: str
    name: str
    title: str
    unit: str
    phone: str | None
    email: str | None
    status: StaffStatus
    has_photo: bool


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    id: str
    kind: CredentialKind
    status: CredentialStatus
    issued_at: datetime
    not_before: datetime | None
    expires_at: datetime
    staff: StaffCard


@dataclass(frozen=True, slots=True)
class KeyRecord:
    kid: str
    state: KeyState
    public_jwk: dict[str, Any]


_STAFF_COLUMNS = (
    Staff.code,
    Staff.name,
    Staff.title,
    Staff.unit,
    Staff.phone,
    Staff.email,
    Staff.status,
    Staff.photo_mime,
)


def _card(row: Any) -> StaffCard:
    return StaffCard(
        code=row.code,
        name=row.name,
        title=row.title,
        unit=row.unit,
        phone=row.phone,
        email=row.email,
        status=row.status,
        has_photo=row.photo_mime is not None,
    )


# Built once: constructing a select costs more than running it on the hot path.
_VERIFY_QUERY = (
    select(
        SigningKey.kid,
        SigningKey.state,
        SigningKey.public_jwk,
        Credential.id.label("cred_id"),
        Credential.kind,
        Credential.status.label("cred_status"),
        Credential.issued_at,
        Credential.not_before,
        Credential.expires_at,
        *_STAFF_COLUMNS,
    )
    .select_from(SigningKey)
    .outerjoin(Credential, and_(Credential.key_id == SigningKey.id, Credential.id == bindparam("jti")))
    .outerjoin(Staff, Staff.id == Credential.staff_id)
    .where(SigningKey.kid == bindparam("kid"), SigningKey.purpose == KeyPurpose.SIGNING)
)


def _connection(db: Session | Connection) -> Connection:
    return db.connection() if isinstance(db, Session) else db


def key_and_credential(
    db: Session | Connection, kid: str, jti: str
) -> tuple[KeyRecord | None, CredentialRecord | None]:
    """One round trip for a verification: the signing key named ``kid`` and, if that
    key signed it, the credential ``jti`` with its holder. Takes a session or, on the
    hot path, a bare connection (no ORM unit of work to open and close)."""
    row = _connection(db).execute(_VERIFY_QUERY, {"kid": kid, "jti": jti}).first()
    if row is None:
        return None, None
    key = KeyRecord(kid=row.kid, state=row.state, public_jwk=row.public_jwk)
    if row.cred_id is None:
        return key, None
    return key, CredentialRecord(
        id=row.cred_id,
        kind=row.kind,
        status=row.cred_status,
        issued_at=row.issued_at,
        not_before=row.not_before,
        expires_at=row.expires_at,
        staff=_card(row),
    )


_CARD_STATUSES = (
    select(Credential.status)
    .join(Staff, Staff.id == Credential.staff_id)
    .where(Staff.code == bindparam("code"), Credential.kind == CredentialKind.STAFF)
)


def holder_card_statuses(db: Session | Connection, staff_code: str) -> list[CredentialStatus]:
    """The statuses of every staff card ``staff_code`` has held (an assignment stands
    on one of them being valid)."""
    return [row.status for row in _connection(db).execute(_CARD_STATUSES, {"code": staff_code})]


def working_staff_cards(session: Session, *conditions: Any, limit: int) -> list[StaffCard]:
    """Staff matching ``conditions`` who still work at the Centre (active or
    suspended), as their card shows them, by code, at most ``limit``."""
    rows = session.execute(
        select(*_STAFF_COLUMNS)
        .where(*conditions, Staff.status != StaffStatus.DEPARTED)
        .order_by(Staff.code)
        .limit(limit)
    )
    return [_card(row) for row in rows]


def staff_card(session: Session, code: str) -> StaffCard | None:
    row = session.execute(select(*_STAFF_COLUMNS).where(Staff.code == code.strip().upper())).first()
    return _card(row) if row is not None else None


def staff_photo(session: Session, code: str) -> tuple[bytes, str] | None:
    """The photo of an active or suspended staff member (what their card shows)."""
    row = session.execute(select(Staff.photo, Staff.photo_mime).where(Staff.code == code.strip().upper())).first()
    if row is None or row.photo is None or row.photo_mime is None:
        return None
    return bytes(row.photo), str(row.photo_mime)
