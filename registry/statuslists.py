"""Status-list storage: hand out entries, flip them in the caller's transaction, and
sign the list as a ``statuslist+jwt`` token."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keys import statuslist
from keys.crypto import MasterKey
from keys.service import sign_with_active
from keys.statuslist import EntryStatus
from registry.models import StatusList

LIST_SIZE = 1 << 16  # 16 KiB per list uncompressed; thousands of entries hide each one
STATUS_LIST_TTL = timedelta(hours=1)  # how long a verifier may cache a list
STATUS_LIST_VALIDITY = timedelta(days=1)  # "exp": an offline copy older than this is stale


def status_list_uri(base_url: str, list_id: int) -> str:
    return f"{base_url}/api/v1/status-lists/{list_id}"


def allocate(session: Session) -> tuple[int, int]:
    """Reserve the next free entry; returns (list id, index).

    The reserving UPDATE comes before any read, so concurrent issuers queue on the
    row (PostgreSQL) or the write lock (SQLite) and never get the same entry.
    """
    while True:
        current = session.scalar(select(StatusList.id).order_by(StatusList.id.desc()).limit(1))
        if current is None:
            session.add(
                StatusList(id=1, size=LIST_SIZE, next_index=0, bits=bytes(statuslist.empty(LIST_SIZE)), version=1)
            )
            session.flush()
            continue
        reserved = session.execute(
            update(StatusList)
            .where(StatusList.id == current, StatusList.next_index < StatusList.size)
            .values(next_index=StatusList.next_index + 1)
            .returning(StatusList.next_index)
        ).scalar()
        if reserved is not None:
            return current, reserved - 1
        session.add(
            StatusList(id=current + 1, size=LIST_SIZE, next_index=0, bits=bytes(statuslist.empty(LIST_SIZE)), version=1)
        )
        session.flush()


def set_entry(session: Session, list_id: int, index: int, status: EntryStatus, *, now: datetime) -> None:
    """Write one entry in the caller's transaction (version bumped first: that is the lock)."""
    session.execute(
        update(StatusList).where(StatusList.id == list_id).values(version=StatusList.version + 1, updated_at=now)
    )
    row = session.get(StatusList, list_id, populate_existing=True)
    if row is None:
        raise LookupError(f"status list {list_id} does not exist")
    bits = bytearray(row.bits)
    if statuslist.get_entry(bits, index) == int(status):
        return
    statuslist.set_entry(bits, index, status)
    row.bits = bytes(bits)
    session.flush()


def get_list(session: Session, list_id: int) -> StatusList | None:
    return session.get(StatusList, list_id)


def list_version(session: Session, list_id: int) -> int | None:
    return session.scalar(select(StatusList.version).where(StatusList.id == list_id))


def status_list_token(session: Session, master: MasterKey, row: StatusList, *, base_url: str, now: datetime) -> str:
    """The signed status list token for ``row`` (draft-ietf-oauth-status-list)."""
    claims = {
        "sub": status_list_uri(base_url, row.id),
        "iss": base_url,
        "iat": int(now.timestamp()),
        "exp": int((now + STATUS_LIST_VALIDITY).timestamp()),
        "ttl": int(STATUS_LIST_TTL.total_seconds()),
        "status_list": {"bits": statuslist.BITS, "lst": statuslist.encode_lst(row.bits)},
    }
    token, _ = sign_with_active(session, master, typ=statuslist.STATUS_LIST_TYP, claims=claims)
    return token
