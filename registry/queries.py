"""Read-only queries that the public side (``verify``) may use. They return plain
frozen dataclasses, never ORM objects, so nothing outside the registry can change
registry state through them."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, select
from sqlalchemy.orm import Session

from keys.models import KeyPurpose, KeyState, SigningKey
from registry.channels.models import OfficialChannel
from registry.channels.service import ChannelRecord, contact_order
from registry.credentials.models import Credential, CredentialKind, CredentialStatus
from registry.platform.prepared import Compiled, prepared_for
from registry.staff.models import Staff, StaffDetails, StaffStatus


@dataclass(frozen=True, slots=True)
class StaffCard(StaffDetails):
    """What a printed card shows about a person, plus their own contacts."""

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


def _card(values: Any) -> StaffCard:
    """A card from the values of ``_STAFF_COLUMNS``, in that order (a row or a slice)."""
    code, name, title, unit, phone, email, status, photo_mime = values
    return StaffCard(
        code=code,
        name=name,
        title=title,
        unit=unit,
        phone=phone,
        email=email,
        status=status,
        has_photo=photo_mime is not None,
    )


def _credential(values: Any) -> CredentialRecord:
    """A credential from the verification's columns after the key's, in their order."""
    cred_id, kind, status, issued_at, not_before, expires_at, *staff = values
    return CredentialRecord(cred_id, kind, status, issued_at, not_before, expires_at, _card(staff))


def _connection(db: Session | Connection) -> Connection:
    return db.connection() if isinstance(db, Session) else db


class VerificationRead:
    """A verification's one round trip: the signing key named ``kid`` and, if that key
    signed it, the credential ``jti`` with its holder; and after them the values of the
    ``extra`` columns a caller adds, which may be correlated with the holder (``Staff``):
    what else a scan shows of that person, read without a second round trip (the scan
    page's fast path asks whether a public warning names them).

    Built once, compiled once per dialect: constructing a select costs more than
    running it on the hot path. Takes a session or, on the hot path, a bare connection
    (no ORM unit of work to open and close)."""

    def __init__(self, *extra: ColumnElement[Any]) -> None:
        self.query = (
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
                *extra,
            )
            .select_from(SigningKey)
            .outerjoin(Credential, and_(Credential.key_id == SigningKey.id, Credential.id == bindparam("jti")))
            .outerjoin(Staff, Staff.id == Credential.staff_id)
            .where(SigningKey.kid == bindparam("kid"), SigningKey.purpose == KeyPurpose.SIGNING)
        )
        self.own_columns = len(self.query.selected_columns) - len(extra)
        self.compiled: Compiled = weakref.WeakKeyDictionary()

    def __call__(
        self, db: Session | Connection, kid: str, jti: str
    ) -> tuple[KeyRecord | None, CredentialRecord | None, tuple[Any, ...]]:
        """The key, the credential, and the extra columns' values (none without a key)."""
        conn = _connection(db)
        row = prepared_for(self.compiled, self.query, conn).first(conn, {"kid": kid, "jti": jti})
        if row is None:
            return None, None, ()
        own, extra = row[: self.own_columns], row[self.own_columns :]
        key = KeyRecord(*own[:3])  # kid, state, public_jwk
        return key, (_credential(own[3:]) if own[3] is not None else None), extra


KEY_AND_CREDENTIAL = VerificationRead()  # what every verification reads
_contact_reads: Compiled = weakref.WeakKeyDictionary()
_card_reads: Compiled = weakref.WeakKeyDictionary()


_CARD_STATUSES = (
    select(Credential.status)
    .join(Staff, Staff.id == Credential.staff_id)
    .where(Staff.code == bindparam("code"), Credential.kind == CredentialKind.STAFF)
)


def holder_card_statuses(db: Session | Connection, staff_code: str) -> list[CredentialStatus]:
    """The statuses of every staff card ``staff_code`` has held (an assignment stands
    on one of them being valid): the second query of a letter's verification."""
    conn = _connection(db)
    return [status for (status,) in prepared_for(_card_reads, _CARD_STATUSES, conn).all(conn, {"code": staff_code})]


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


def staff_photo(session: Session, code: str, *, include_departed: bool = False) -> tuple[bytes, str] | None:
    """The photo of an active or suspended staff member (what their card shows), or
    None. A departed person's is never served to the public: their old card is the
    likeliest prop of an impostor. The console asks with ``include_departed``."""
    query = select(Staff.photo, Staff.photo_mime).where(Staff.code == code.strip().upper())
    if not include_departed:
        query = query.where(Staff.status != StaffStatus.DEPARTED)
    row = session.execute(query).first()
    if row is None or row.photo is None or row.photo_mime is None:
        return None
    return bytes(row.photo), str(row.photo_mime)


def held_by_former_or_suspended(session: Session, *conditions: Any) -> bool:
    """Whether a staff member matching ``conditions`` is departed or suspended: their
    own phone or email then is not a contact of the Centre's to call back on."""
    query = select(Staff.id).where(*conditions, Staff.status != StaffStatus.ACTIVE).limit(1)
    return session.execute(query).first() is not None


# every channel (a handful): contact_order keeps the kinds one can call or write to
_CONTACTS_QUERY = select(OfficialChannel.kind, OfficialChannel.value, OfficialChannel.label)


def official_contacts(db: Session | Connection) -> tuple[ChannelRecord, ...]:
    """The Centre's official channels an officer can call or write to, in the order
    to show them (``registry.channels.contact_order``). Takes a session or, on the
    verification's hot path, a bare connection."""
    conn = _connection(db)
    rows = prepared_for(_contact_reads, _CONTACTS_QUERY, conn).all(conn, {})
    return contact_order(ChannelRecord(kind=kind, value=value, label=label) for kind, value, label in rows)
