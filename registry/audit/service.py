"""The tamper-evident audit log, as the rooms use it: ``append`` an entry in the
caller's transaction and ``verify_chain`` (both in ``registry.audit.chain``: a hash
chain MACed under a key derived from the master key), and the console's search."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from keys.contract import VN_TZ
from registry.audit.chain import GENESIS_HASH, ChainReport, append, verify_chain
from registry.audit.models import AuditEntry

MAX_ACTORS_LISTED = 200  # the search form's choice of actors

__all__ = ["GENESIS_HASH", "ChainReport", "actors", "append", "search", "verify_chain"]


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
