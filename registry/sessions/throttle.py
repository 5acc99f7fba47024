"""Sign-in throttling per typed username and source address, kept in the database
so that every app instance sharing it counts the same failures.

The first ``FREE_FAILURES`` failures of a (username, source) pair cost nothing more;
from then on that source waits before its next try, twice as long after each further
failure (``BACKOFF_FIRST`` up to ``BACKOFF_MAX``). A source that stays quiet for
``MEMORY`` is forgotten. Another address is never slowed by this one's failures: the
account-wide lock (``registry.accounts.signin``) needs far more.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from registry.sessions.models import MAX_ADDRESS, SignInThrottle

FREE_FAILURES = 5
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
MEMORY = timedelta(hours=24)


def source_of(address: str) -> str:
    """What one source is: an IPv4 address, or an IPv6 /64 (one subscriber's network,
    whose addresses cost nothing to change); anything else as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (address or "-")[:MAX_ADDRESS]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(username: str, source: str) -> tuple[str, str]:
    return username[:64], source_of(source)


def wait_seconds(session: Session, username: str, source: str, now: datetime) -> int:
    """How long ``source`` must still wait before trying ``username`` again (0: it may)."""
    user, src = _key(username, source)
    blocked = session.scalar(
        select(SignInThrottle.blocked_until).where(SignInThrottle.username == user, SignInThrottle.source == src)
    )
    if blocked is None or blocked <= now:
        return 0
    return max(1, math.ceil((blocked - now).total_seconds()))


def backoff(failures: int) -> timedelta:
    """The wait after the ``failures``-th failure in a row (none up to FREE_FAILURES - 1)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 16)
    wait: timedelta = BACKOFF_FIRST * (2**doublings)
    return min(wait, BACKOFF_MAX)


def record_failure(session: Session, username: str, source: str, now: datetime) -> int:
    """Count one failure of ``username`` from ``source``; returns the failures in a
    row. The row is created if missing (an upsert, so two instances racing on the
    first failure both count) and locked while it is updated."""
    user, src = _key(username, source)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SignInThrottle)
        .values(username=user, source=src, failures=0, last_failed_at=None, blocked_until=None)
        .on_conflict_do_nothing(index_elements=["username", "source"])
    )
    row = session.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.username == user, SignInThrottle.source == src)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.last_failed_at is not None and now - row.last_failed_at > MEMORY:
        row.failures = 0
    row.failures += 1
    row.last_failed_at = now
    wait = backoff(row.failures)
    row.blocked_until = now + wait if wait else None
    session.flush()
    return row.failures


def forget(session: Session, username: str, source: str, now: datetime) -> None:
    """A successful sign-in from ``source`` clears its count; rows quiet for longer
    than MEMORY are swept on the way."""
    user, src = _key(username, source)
    session.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.username == user, SignInThrottle.source == src)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.last_failed_at < now - MEMORY)
        .execution_options(synchronize_session=False)
    )
