"""The tamper-evident audit log: every change appends an entry whose hash covers the
previous entry's hash and its own content, so editing, deleting or reordering any row
breaks the chain at that row. Also the console's search of the log."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from keys.contract import VN_TZ
from registry.audit.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
HEAD_ID = 1
MAX_FIELD = 200
MAX_ACTORS_LISTED = 200  # the search form's choice of actors


def _entry_hash(
    seq: int, at: datetime, actor: str, action: str, target: str, details: dict[str, Any], prev_hash: str
) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, target, details, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append(
    session: Session, *, actor: str, action: str, target: str = "", details: dict[str, Any] | None = None, now: datetime
) -> AuditEntry:
    """Append one entry in the caller's transaction and return it.

    The head row is updated before it is read: on PostgreSQL that takes a row lock,
    on SQLite the write lock, so concurrent appends queue instead of forking the chain.
    """
    head_updated = session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq + 1))
    if head_updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(AuditHead(id=HEAD_ID, seq=1, last_hash=GENESIS_HASH))
        session.flush()
    head = session.execute(select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)).one()
    clean_details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    actor, action, target = actor[:MAX_FIELD], action[:MAX_FIELD], target[:MAX_FIELD]
    entry = AuditEntry(seq=head.seq, at=now, actor=actor, action=action, target=target, details=clean_details)
    # the link: the previous entry's hash, and this one's over both
    entry.prev_hash = head.last_hash
    digest = entry.hash = _entry_hash(head.seq, now, actor, action, target, clean_details, head.last_hash)
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(last_hash=digest))
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_seq: int | None = None
    reason: str | None = None


def verify_chain(session: Session) -> ChainReport:
    """Walk the log in order and recompute every hash. Returns where it first breaks:
    an edited row (its hash), a deleted or reordered one (the link or the sequence),
    or a truncated tail (the head no longer matches the last row)."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        if entry.seq != expected_seq:
            return ChainReport(False, count, entry.seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev:
            return ChainReport(False, count, entry.seq, "link to the previous entry is broken")
        recomputed = _entry_hash(
            entry.seq, entry.at, entry.actor, entry.action, entry.target, entry.details, entry.prev_hash
        )
        if recomputed != entry.hash:
            return ChainReport(False, count, entry.seq, "content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        count += 1
    head = session.get(AuditHead, HEAD_ID)
    if head is not None and (head.seq != count or head.last_hash != prev):
        return ChainReport(
            False, count, count + 1 if head.seq > count else head.seq, "entries after this point were removed"
        )
    return ChainReport(True, count)


def search(
    session: Session,
    *,
    actor: str = "",
    action: str = "",
    start: date | None = None,
    end: date | None = None,
    limit: int,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Entries newest first, by ``actor``, by ``action`` (a whole action, or a prefix
    such as ``staff`` for every ``staff.…``), from the day ``start`` to the day ``end``
    inclusive (days in Viet Nam time); returns one page of them and how many match."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(
            or_(AuditEntry.action == action, AuditEntry.action.startswith(action.rstrip(".") + ".", autoescape=True))
        )
    if start is not None:
        query = query.where(AuditEntry.at >= datetime.combine(start, time.min, tzinfo=VN_TZ))
    if end is not None:
        query = query.where(AuditEntry.at < datetime.combine(end + timedelta(days=1), time.min, tzinfo=VN_TZ))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)))
    return entries, total


def actors(session: Session) -> list[str]:
    """Who appears in the log, for the search form."""
    return list(
        session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor).limit(MAX_ACTORS_LISTED))
    )


# What takes a card, a letter or a key out of service (offline clients learn it from
# the status list or the key set): the actions to re-apply after a restore.
REVOCATION_VERBS = ("revoke", "suspend")
MAX_REVOCATIONS_LISTED = 10_000


def revocations_since(session: Session, since: datetime) -> list[AuditEntry]:
    """Entries that revoked or suspended something at or after ``since``, oldest first."""
    verbs = or_(*(AuditEntry.action.endswith("." + verb) for verb in REVOCATION_VERBS))
    query = select(AuditEntry).where(AuditEntry.at >= since, verbs).order_by(AuditEntry.seq)
    return list(session.scalars(query.limit(MAX_REVOCATIONS_LISTED)))
