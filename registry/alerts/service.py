"""Queueing alerts to the genuine staff member, in the caller's transaction, as
``mail.*`` outbox messages (``registry.outbox.mail`` sends them, retried, never lost).

- ``wrong_live_code``: a wrong live code for their staff code; at most one mail an
  hour, whose count grows while it waits to be sent; wrong codes after it was sent are
  told in the next one.
- ``report_names_staff``: a report names their phone, email or name; one mail per
  report and person, never naming the reporter.
- ``record_check`` and ``queue_digests``: a verification by an agency that gave its
  name, and the daily digest of them (idempotent per person and day).

Only people with an email who have not departed get alerts, and each kind can be
turned off (``set_alert``). Every alert queued is audited (``alert.queued``), without
anything a reporter gave. An alert never stops the change it tells of: a failure to
queue one is logged and skipped.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Insert, delete, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keys.contract import VN_TZ
from keys.errors import N_
from keys.orm import UTCDateTime
from keys.text import fold_name
from registry.alerts import messages
from registry.alerts.models import AlertKind, AlertOptOut, CardCheck, LiveCodeAlertWindow
from registry.audit import service as audit
from registry.errors import ValidationError
from registry.outbox.models import OutboxMessage, OutboxStatus
from registry.staff.models import Staff, StaffStatus
from registry.staff.service import get_staff

log = logging.getLogger("chinhdanh.alerts")

EVENTS = {kind: f"mail.{kind.value}" for kind in AlertKind}
WINDOW = timedelta(hours=1)
KEEP_CHECKS = timedelta(days=35)  # a digest needs yesterday's; a month serves a late rerun
MAX_AGENCY = 200
# What anyone can cause without signing in is bounded: the agency name is typed by
# whoever checks a card (no account), and reports are anonymous. So a person's digest
# holds at most this many checks a day, and a person gets at most this many report
# alerts an hour (each report is still stored and triaged; only the mails stop).
MAX_CHECKS_PER_DAY = 100
MAX_REPORT_ALERTS_PER_HOUR = 5
ACTOR = "system:alerts"
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co"})  # control and format characters: never in a mail


def _recipient(staff: Staff | None, kind: AlertKind, session: Session) -> str | None:
    """Where this person's alert of ``kind`` goes, or None if it does not."""
    if staff is None or not staff.email or staff.status is StaffStatus.DEPARTED:
        return None
    if session.get(AlertOptOut, (staff.id, kind)) is not None:
        return None
    return staff.email


def _payload(to: str, staff: Staff, kind: AlertKind, mail: messages.Mail, key: str, **extra: Any) -> dict[str, Any]:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return {
        "to": to,
        "subject": mail.subject,
        "body": mail.body,
        "message_id": f"<{digest}@alerts.chinhdanh>",  # the same on every retry
        "kind": kind.value,
        "staff_code": staff.code,
        **extra,
    }


def _queue(
    session: Session,
    staff: Staff,
    kind: AlertKind,
    to: str,
    mail: messages.Mail,
    key: str,
    *,
    now: datetime,
    **extra: Any,
) -> OutboxMessage:
    message = OutboxMessage(
        event=EVENTS[kind],
        idempotency_key=key,
        payload=_payload(to, staff, kind, mail, key, **extra),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    details = {"kind": kind.value, "message": message.id}
    audit.append(session, actor=ACTOR, action="alert.queued", target=staff.code, details=details, now=now)
    return message


# ---------------------------------------------------------------- live codes


def wrong_live_code(session: Session, staff_id: int, *, at: datetime) -> None:
    """Tell ``staff_id`` of a wrong live code for their staff code (see the module)."""
    try:
        with session.begin_nested():
            _wrong_live_code(session, staff_id, at=at)
    except IntegrityError:  # another instance opened the window at the same moment: it tells
        log.info("live-code alert for staff %d queued by another request", staff_id)


def _wrong_live_code(session: Session, staff_id: int, *, at: datetime) -> None:
    staff = session.get(Staff, staff_id)
    to = _recipient(staff, AlertKind.LIVE_CODE, session)
    if staff is None or to is None:
        return
    window = session.get(LiveCodeAlertWindow, staff_id, with_for_update=True)
    if window is not None and at < window.started_at + WINDOW:
        waiting = session.get(OutboxMessage, window.message_id)
        if waiting is not None and waiting.status is OutboxStatus.PENDING and waiting.attempts == 0:
            window.count += 1  # not sent yet: the same mail, with the new count
            first = datetime.fromisoformat(waiting.payload["first_at"])
            mail = messages.wrong_live_code(staff.name, staff.code, count=window.count, first=first, last=at)
            waiting.payload = {**waiting.payload, "subject": mail.subject, "body": mail.body}
        else:
            window.untold += 1
            window.untold_since = window.untold_since or at
        return
    count = 1 + (window.untold if window is not None else 0)
    first = (window.untold_since if window is not None else None) or at
    mail = messages.wrong_live_code(staff.name, staff.code, count=count, first=first, last=at)
    key = f"mail.live_code:{staff.id}:{at:%Y%m%dT%H%M%S%f}"
    message = _queue(session, staff, AlertKind.LIVE_CODE, to, mail, key, now=at, first_at=first.isoformat())
    if window is None:
        session.add(LiveCodeAlertWindow(staff_id=staff.id, started_at=at, message_id=message.id, count=count))
    else:
        window.started_at, window.message_id, window.count = at, message.id, count
        window.untold, window.untold_since = 0, None
    session.flush()


# ---------------------------------------------------------------- reports

CHANNEL_WORDS = {
    "phone": "điện thoại hoặc tin nhắn",
    "email": "email",
    "zalo": "Zalo",
    "facebook": "Facebook",
    "letter": "thư hoặc văn bản",
    "in_person": "gặp trực tiếp",
    "other": "khác",
}


def _report_alerts_last_hour(session: Session, staff_id: int, at: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.event == EVENTS[AlertKind.REPORT],
                OutboxMessage.idempotency_key.endswith(f":{staff_id}"),
                OutboxMessage.created_at > at - WINDOW,
            )
        )
        or 0
    )


def report_names_staff(
    session: Session,
    *,
    reference: str,
    phone: str | None,
    email: str | None,
    claimed_name: str | None,
    channel: str,
    at: datetime,
) -> int:
    """Tell every person whose phone (E.164), email (case-folded) or name a new
    report names; returns how many mails were queued."""
    folded = fold_name(claimed_name) if claimed_name else None
    conditions = [
        column == value
        for column, value in ((Staff.phone, phone), (Staff.email, email), (Staff.name_folded, folded))
        if value
    ]
    if not conditions:
        return 0
    queued = 0
    for staff in session.scalars(select(Staff).where(or_(*conditions)).order_by(Staff.id)):
        to = _recipient(staff, AlertKind.REPORT, session)
        if to is None or _report_alerts_last_hour(session, staff.id, at) >= MAX_REPORT_ALERTS_PER_HOUR:
            continue
        matched = [
            word
            for word, hit in (
                ("số điện thoại", phone and staff.phone == phone),
                ("địa chỉ email", email and staff.email == email),
                ("họ tên", folded and staff.name_folded == folded),
            )
            if hit
        ]
        facts = messages.ReportFacts(
            reference=reference,
            at=at,
            matched=matched,
            claimed_name=claimed_name,
            phone=phone,
            email=email,
            channel=CHANNEL_WORDS.get(channel, channel),
        )
        mail = messages.report_names_you(staff.name, staff.code, facts)
        _queue(session, staff, AlertKind.REPORT, to, mail, f"mail.report:{reference}:{staff.id}", now=at)
        queued += 1
    return queued


# ---------------------------------------------------------------- card checks and the digest


def check_insert(*, staff_code: str, credential_id: str, agency: str, verdict: str, at: datetime) -> Insert | None:
    """The one statement that notes a check of this person's credential by an agency
    that gave its name (None when no name was given): it finds the person itself, so
    the verification fast path can run it on its autocommit engine."""
    visible = "".join(c for c in agency if unicodedata.category(c) not in INVISIBLE)
    name = " ".join(visible.split())[:MAX_AGENCY]
    if not name:
        return None
    checks_today = (
        select(func.count())
        .select_from(CardCheck)
        .where(CardCheck.staff_id == Staff.id, CardCheck.at > literal(at - timedelta(days=1), UTCDateTime()))
        .scalar_subquery()
    )
    row = select(
        Staff.id,
        literal(credential_id[:64]),
        literal(name),
        literal(verdict),
        literal(at, UTCDateTime()),
    ).where(Staff.code == staff_code, checks_today < MAX_CHECKS_PER_DAY)
    return insert(CardCheck).from_select(["staff_id", "credential_id", "agency", "verdict", "at"], row)


def record_check(
    session: Session, *, staff_code: str, credential_id: str, agency: str, verdict: str, at: datetime
) -> None:
    """Note a check by a named agency in the caller's transaction."""
    statement = check_insert(staff_code=staff_code, credential_id=credential_id, agency=agency, verdict=verdict, at=at)
    if statement is not None:
        session.execute(statement)


def vn_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=VN_TZ)
    return start, start + timedelta(days=1)


def queue_digests(session: Session, *, day: date, now: datetime) -> int:
    """Queue each person's digest of ``day`` (Viet Nam time) once; returns how many
    were queued now (0 when run again for the same day)."""
    start, end = vn_day_bounds(day)
    checks = session.scalars(
        select(CardCheck).where(CardCheck.at >= start, CardCheck.at < end).order_by(CardCheck.at, CardCheck.id)
    )
    by_staff: dict[int, list[CardCheck]] = defaultdict(list)
    for check in checks:
        by_staff[check.staff_id].append(check)
    queued = 0
    for staff_id, rows in sorted(by_staff.items()):
        staff = session.get(Staff, staff_id)
        to = _recipient(staff, AlertKind.DIGEST, session)
        key = f"mail.digest:{staff_id}:{day:%Y%m%d}"
        if (
            staff is None
            or to is None
            or session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
        ):
            continue
        listed = [messages.Check(agency=c.agency, at=c.at, verdict=c.verdict) for c in rows]
        _queue(session, staff, AlertKind.DIGEST, to, messages.digest(staff.name, staff.code, day, listed), key, now=now)
        queued += 1
    session.execute(delete(CardCheck).where(CardCheck.at < now - KEEP_CHECKS))
    return queued


# ---------------------------------------------------------------- preferences


def parse_kind(value: str) -> AlertKind:
    try:
        return AlertKind(value)
    except ValueError:
        raise ValidationError(
            N_("unknown alert kind {kind}: use live_code, report or digest"),
            params={"kind": value[:32]},
            field="kind",
        ) from None


def alert_settings(session: Session, staff_code: str) -> dict[AlertKind, bool]:
    """Which alerts this person gets (True) and which they turned off."""
    staff = get_staff(session, staff_code)
    off = set(session.scalars(select(AlertOptOut.kind).where(AlertOptOut.staff_id == staff.id)))
    return {kind: kind not in off for kind in AlertKind}


def set_alert(session: Session, staff_code: str, kind: AlertKind, *, on: bool, actor: str, now: datetime) -> bool:
    """Turn one kind of alert on or off for a person; audited. Returns whether it changed."""
    staff = get_staff(session, staff_code)
    existing = session.get(AlertOptOut, (staff.id, kind))
    if on == (existing is None):
        return False
    if on:
        session.delete(existing)
    else:
        session.add(AlertOptOut(staff_id=staff.id, kind=kind, at=now))
    session.flush()
    details = {"kind": kind.value, "on": on}
    audit.append(session, actor=actor, action="alert.settings", target=staff.code, details=details, now=now)
    return True
