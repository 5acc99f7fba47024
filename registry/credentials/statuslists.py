"""Status-list storage: hand out entries (scattered, so an index tells nothing of
when a credential was issued), flip them in the caller's transaction, and
sign the list as a ``statuslist+jwt`` token."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keys import statuslist
from keys.contract import STATUS_LIST_TYP, status_list_uri
from keys.crypto import MasterKey
from keys.service import sign_with_active
from keys.statuslist import EntryStatus
from registry.credentials.models import StatusList

LIST_SIZE = 1 << 16  # 16 KiB per list uncompressed; thousands of entries hide each one
STATUS_LIST_TTL = timedelta(hours=1)  # how long a verifier may cache a list
STATUS_LIST_VALIDITY = timedelta(days=1)  # "exp": an offline copy older than this is stale


INDEX_KEY_BYTES = 16
_FEISTEL_ROUNDS = 4


def scatter(n: int, key: bytes | None, size: int) -> int:
    """The entry for the ``n``-th credential of a list: a keyed permutation of
    ``range(size)`` (a four-round Feistel network keyed by HMAC-SHA256), so entries
    are all distinct yet reveal neither the order nor the number of credentials
    issued; the identity without a key or for a size that is not 4**k."""
    bits = size.bit_length() - 1
    if key is None or size != 1 << bits or bits % 2:
        return n
    half = bits // 2
    mask = (1 << half) - 1
    left, right = n >> half, n & mask
    for round_no in range(_FEISTEL_ROUNDS):
        digest = hmac.new(key, bytes([round_no]) + right.to_bytes(4, "big"), hashlib.sha256).digest()
        left, right = right, left ^ (int.from_bytes(digest[:4], "big") & mask)
    return (left << half) | right


def _new_list(session: Session, list_id: int) -> None:
    session.add(
        StatusList(
            id=list_id,
            size=LIST_SIZE,
            next_index=0,
            bits=bytes(statuslist.empty(LIST_SIZE)),
            version=1,
            index_key=os.urandom(INDEX_KEY_BYTES),
        )
    )
    session.flush()


def allocate(session: Session) -> tuple[int, int]:
    """Reserve the next free entry; returns (list id, index).

    The reserving UPDATE comes before any read, so concurrent issuers queue on the
    row (PostgreSQL) or the write lock (SQLite) and never get the same counter
    value; ``scatter`` turns that counter into the entry, one to one.
    """
    while True:
        current = session.scalar(select(StatusList.id).order_by(StatusList.id.desc()).limit(1))
        if current is None:
            _new_list(session, 1)
            continue
        reserved = session.execute(
            update(StatusList)
            .where(StatusList.id == current, StatusList.next_index < StatusList.size)
            .values(next_index=StatusList.next_index + 1)
            .returning(StatusList.next_index, StatusList.index_key, StatusList.size)
        ).first()
        if reserved is not None:
            return current, scatter(reserved.next_index - 1, reserved.index_key, reserved.size)
        _new_list(session, current + 1)


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
    token, _ = sign_with_active(session, master, typ=STATUS_LIST_TYP, claims=claims)
    return token
