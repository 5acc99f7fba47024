"""Console sessions on the server: start one (a fresh random id, only its hash
stored), find the live one a cookie names, note activity, end one, end all of an
account's others, list an account's open ones. Services take a Session and never
commit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from registry.accounts.models import AccountStatus, AdminUser
from registry.sessions.models import MAX_ADDRESS, MAX_USER_AGENT, AdminSession

ID_BYTES = 32  # 256 random bits in every cookie
MAX_COOKIE = 128  # a longer cookie value is not one of ours
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute
KEEP_ENDED = timedelta(days=1)  # ended or expired rows are deleted after this


@dataclass(frozen=True, slots=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


def hash_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start(
    session: Session, user: AdminUser, *, now: datetime, address: str, user_agent: str, timeouts: Timeouts
) -> str:
    """A new session of ``user``; returns the raw id for the cookie (never stored).
    The account's long-dead rows are swept on the way."""
    raw = secrets.token_urlsafe(ID_BYTES)
    cutoff = now - timeouts.absolute - KEEP_ENDED
    session.execute(
        delete(AdminSession)
        .where(AdminSession.user_id == user.id, or_(AdminSession.created_at < cutoff, AdminSession.ended_at < cutoff))
        .execution_options(synchronize_session=False)
    )
    session.add(
        AdminSession(
            id_hash=hash_id(raw),
            user_id=user.id,
            generation=user.session_generation,
            created_at=now,
            last_seen_at=now,
            address=address[:MAX_ADDRESS],
            user_agent=user_agent[:MAX_USER_AGENT],
        )
    )
    session.flush()
    return raw


def is_live(row: AdminSession, user: AdminUser, *, now: datetime, timeouts: Timeouts) -> bool:
    return (
        row.ended_at is None
        and user.status is AccountStatus.ACTIVE
        and row.generation == user.session_generation
        and now - row.last_seen_at <= timeouts.idle
        and now - row.created_at <= timeouts.absolute
    )


def find_live(session: Session, raw: str | None, *, now: datetime, timeouts: Timeouts) -> AdminSession | None:
    """The live session the cookie value ``raw`` names, or None."""
    if not raw or len(raw) > MAX_COOKIE:
        return None
    row = session.scalars(select(AdminSession).where(AdminSession.id_hash == hash_id(raw))).first()
    if row is None:
        return None
    user = session.get(AdminUser, row.user_id)
    if user is None or not is_live(row, user, now=now, timeouts=timeouts):
        return None
    return row


def needs_touch(row: AdminSession, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_EVERY


def touch(session: Session, row_id: int, now: datetime) -> None:
    """Note activity (idle timeout counts from here)."""
    session.execute(
        update(AdminSession)
        .where(AdminSession.id == row_id, AdminSession.last_seen_at < now)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def end(session: Session, row: AdminSession, now: datetime) -> None:
    if row.ended_at is None:
        row.ended_at = now
    session.flush()


def end_others(session: Session, user: AdminUser, keep_id: int | None, now: datetime) -> int:
    """End every open session of ``user`` but ``keep_id``; returns how many ended."""
    result = session.execute(
        update(AdminSession)
        .where(AdminSession.user_id == user.id, AdminSession.ended_at.is_(None), AdminSession.id != (keep_id or 0))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def open_sessions(session: Session, user: AdminUser, *, now: datetime, timeouts: Timeouts) -> list[AdminSession]:
    """The account's live sessions, the most recently used first."""
    rows = session.scalars(
        select(AdminSession)
        .where(
            AdminSession.user_id == user.id,
            AdminSession.ended_at.is_(None),
            AdminSession.generation == user.session_generation,
        )
        .order_by(AdminSession.last_seen_at.desc(), AdminSession.id.desc())
    )
    return [row for row in rows if is_live(row, user, now=now, timeouts=timeouts)]


def get_own(session: Session, user: AdminUser, row_id: int) -> AdminSession | None:
    row = session.get(AdminSession, row_id)
    return row if row is not None and row.user_id == user.id else None
