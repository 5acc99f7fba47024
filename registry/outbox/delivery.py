"""Delivery of the outbox: each message, written in the transaction of the change it
tells of, is sent here later, so a slow or failing receiver never loses or delays
that change. Events named ``mail.*`` go by email (``registry.outbox.mail``), the
others (``report.created``) to the webhook; both share the claim, the retries and
the backoff below.

The webhook request is JSON with these headers:

- ``X-Chinhdanh-Event``: the event (``report.created``, or ``audit.checkpoint``: a signed
  checkpoint of the audit log, ``registry.audit.checkpoints``, for the receiver to keep);
- ``X-Chinhdanh-Delivery`` and ``Idempotency-Key``: the same key on every retry of one
  notification (``report.created:BC-2026-000123``); a receiver that stores the keys it
  has accepted sees each report exactly once, even when our retry crosses its late
  success answer;
- ``X-Chinhdanh-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Chinhdanh-Signature``: ``sha256=`` + hex HMAC-SHA256 under ``WEBHOOK_SECRET`` of
  ``<timestamp>.<body>`` (the timestamp, a dot, the exact body bytes). Receivers should
  refuse a timestamp more than 5 minutes old (replays).

A 2xx answer delivers; anything else (or no answer) schedules a retry with exponential
backoff (30 s, 1 min, 2 min, … capped at 6 h) and gives up after 20 attempts (about 62 hours)
(``failed``, kept for ``outbox deliver --retry-failed``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from registry.outbox.models import OutboxMessage, OutboxStatus

log = logging.getLogger("chinhdanh.outbox")

FIRST_RETRY = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
MAX_ATTEMPTS = 20  # about 62 hours of retries in all: a receiver down over a weekend still gets it
LEASE = timedelta(minutes=2)  # a claimed message is not picked by another sender for this long
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 10.0  # LEASE must stay well above this
BATCH = 100  # messages per run; the next run (or request) takes the rest
MAX_ERROR = 500
BACKGROUND_ROUNDS = 5  # bounded: a busy stream of reports cannot keep one thread forever

Post = Callable[[str, bytes, Mapping[str, str]], int]


def requests_post(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    """POST with bounded time, no redirects (a redirect would resend the signature)."""
    resp = requests.post(
        url, data=body, headers=dict(headers), timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S), allow_redirects=False
    )
    resp.close()
    return resp.status_code


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failures."""
    wait: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return min(wait, MAX_BACKOFF)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    delivered: int
    retrying: int
    failed: int
    skipped: int  # claimed meanwhile by another sender


MAIL_PREFIX = "mail."  # events sent by email (registry.outbox.mail); every other event goes to the webhook
Send = Callable[[OutboxMessage], "str | None"]  # None when delivered, else the error to record


def is_mail(event: str) -> bool:
    return event.startswith(MAIL_PREFIX)


def webhook_send(url: str, secret: str, *, now: datetime, post: Post = requests_post) -> Send:
    """A sender that POSTs a message to ``url``, signed with ``secret``."""

    def send(message: OutboxMessage) -> str | None:
        body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "chinhdanh-webhook/1",
            "X-Chinhdanh-Event": message.event,
            "X-Chinhdanh-Delivery": message.idempotency_key,
            "Idempotency-Key": message.idempotency_key,
            "X-Chinhdanh-Timestamp": timestamp,
            "X-Chinhdanh-Signature": signature(secret, timestamp, body),
        }
        try:
            status = post(url, body, headers)
        except requests.RequestException as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= status < 300 else f"HTTP {status}"

    return send


def deliver_pending(
    session: Session,
    *,
    now: datetime,
    url: str,
    secret: str,
    post: Post = requests_post,
    limit: int = BATCH,
) -> DeliveryResult:
    """Send every pending webhook message that is due (see ``deliver_due``)."""
    send = webhook_send(url, secret, now=now, post=post)
    return deliver_due(session, now=now, send=send, mail=False, limit=limit)


def deliver_due(session: Session, *, now: datetime, send: Send, mail: bool, limit: int = BATCH) -> DeliveryResult:
    """Send every pending message of one transport (mail, or the webhook) that is due;
    returns what happened.

    Unlike the other services this one commits, once per message: a network send
    cannot be rolled back, so each claim and each outcome must be durable on its
    own. A message is claimed (its next attempt pushed LEASE ahead) with a
    compare-and-set before it is sent, so concurrent senders (the request thread,
    the CLI, another instance) never send the same message at the same time.
    """
    kind = OutboxMessage.event.startswith(MAIL_PREFIX)
    due = list(
        session.execute(
            select(OutboxMessage.id, OutboxMessage.next_attempt_at)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at <= now,
                kind if mail else ~kind,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    session.commit()
    delivered = retrying = failed = skipped = 0
    for message_id, scheduled in due:
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at == scheduled,
            )
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            skipped += 1
            continue
        message = session.get(OutboxMessage, message_id, populate_existing=True)
        if message is None:  # deleted meanwhile
            skipped += 1
            continue
        error = send(message)
        message.attempts += 1
        if error is None:
            message.status = OutboxStatus.DELIVERED
            message.delivered_at = now
            message.last_error = None
            delivered += 1
        else:
            message.last_error = error[:MAX_ERROR]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                failed += 1
            else:
                message.next_attempt_at = now + backoff(message.attempts)
                retrying += 1
            log.warning("delivery of %s failed (attempt %d): %s", message.idempotency_key, message.attempts, error)
        session.commit()
    return DeliveryResult(delivered, retrying, failed, skipped)


def retry_failed(session: Session, *, now: datetime) -> int:
    """Put given-up messages back in the queue (after the receiver is fixed). Flushes."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def pending_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.PENDING)) or 0
    )


_running = threading.Lock()  # at most one background webhook sender per process
_running_mail = threading.Lock()  # and one mail sender


def deliver_in_background(
    make_session: sessionmaker[Session],
    *,
    url: str,
    secret: str,
    clock: Callable[[], datetime],
    post: Post = requests_post,
) -> threading.Thread | None:
    """Start a daemon thread that delivers the webhook messages that are due."""
    return send_in_background(
        make_session, lambda at: webhook_send(url, secret, now=at, post=post), clock=clock, mail=False
    )


def send_in_background(
    make_session: sessionmaker[Session],
    make_send: Callable[[datetime], Send],
    *,
    clock: Callable[[], datetime],
    mail: bool,
) -> threading.Thread | None:
    """Start a daemon thread that delivers what is due of one transport, unless one
    is already running for it in this process (then the running one or the next
    request takes the new message). Never raises: the change is already committed."""
    lock = _running_mail if mail else _running
    if not lock.acquire(blocking=False):
        return None

    def run() -> None:
        try:
            with make_session() as session:
                # keep going while messages came due (reports that arrived meanwhile)
                for _round in range(BACKGROUND_ROUNDS):
                    at = clock()
                    result = deliver_due(session, now=at, send=make_send(at), mail=mail)
                    if result.delivered + result.retrying + result.failed == 0:
                        break
        except SQLAlchemyError:
            log.exception("delivery stopped on a database error; `outbox deliver` will resume it")
        finally:
            lock.release()

    thread = threading.Thread(target=run, name="chinhdanh-mail" if mail else "chinhdanh-webhook", daemon=True)
    try:
        thread.start()
    except RuntimeError:
        lock.release()
        log.warning("could not start the delivery thread; `outbox deliver` will send the message")
        return None
    return thread


def waiting(session: Session) -> list[OutboxMessage]:
    """Every message not delivered yet, oldest first."""
    query = select(OutboxMessage).where(OutboxMessage.status != OutboxStatus.DELIVERED).order_by(OutboxMessage.id)
    return list(session.scalars(query))


def describe(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "event": message.event,
        "key": message.idempotency_key,
        "status": message.status.value,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at.isoformat(),
        "last_error": message.last_error,
        "delivered_at": message.delivered_at.isoformat() if message.delivered_at else None,
    }
