"""Intake of impersonation reports: the gapless per-year reference number, and the
write of the report, its identifiers, its evidence and its webhook notification in
one transaction (what was sent is checked first, by ``validation``).

``submit_report`` writes and flushes, and the caller commits. A report, once its
request is answered with a reference, is stored; nothing is dropped silently: every
refusal is an error the sender sees.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keys.contract import VN_TZ
from keys.errors import N_
from keys.text import parse_email, parse_phone
from registry.alerts import service as alerts
from registry.audit import service as audit
from registry.outbox.models import OutboxMessage
from verify.errors import ValidationError
from verify.reports.evidence import CheckedFile
from verify.reports.identifiers import normalize_identifiers
from verify.reports.models import EvidenceBlob, Report, ReportCounter, ReportFile, ReportIdentifier
from verify.reports.quota import Quota, charge
from verify.reports.validation import ReportInput

REFERENCE_PREFIX = "BC"  # "báo cáo": what the officer quotes on the phone
REFERENCE_RE = re.compile(r"^BC-(\d{4})-(\d{6})$")
MAX_PER_YEAR = 999_999  # six digits; more reports than that in a year would need a new format
EVENT_REPORT_CREATED = "report.created"


def next_reference(session: Session, year: int) -> tuple[int, str]:
    """Take the next number of ``year``; returns (seq, "BC-<year>-<6 digits>").

    The counter is incremented before it is read, in the caller's transaction: on
    PostgreSQL the row lock queues concurrent reports, on SQLite the write lock does;
    a rolled-back report gives its number back, so numbers have no gaps. The first
    report of a year inserts the row; a concurrent first insert loses on the primary
    key and takes the incremented path instead.
    """
    while True:
        seq = session.execute(
            update(ReportCounter)
            .where(ReportCounter.year == year)
            .values(last=ReportCounter.last + 1)
            .returning(ReportCounter.last)
        ).scalar()
        if seq is not None:
            break
        try:
            with session.begin_nested():
                session.add(ReportCounter(year=year, last=1))
            seq = 1
            break
        except IntegrityError:
            continue
    if seq > MAX_PER_YEAR:
        raise ValidationError(N_("The report register for this year is full. Call the Centre."))
    return seq, f"{REFERENCE_PREFIX}-{year:04d}-{seq:06d}"


def submit_report(
    session: Session,
    data: ReportInput,
    files: Sequence[CheckedFile] = (),
    *,
    source: str,
    now: datetime,
    quota: Quota | None = None,
) -> Report:
    """Store a validated report with its identifiers, evidence, outbox message and
    audit entry (``report.receive``; the reporter's details stay out of the log).

    With ``quota`` (the public intake), the files are first counted against it
    (``quota.charge``; EvidenceError if over). The files' bytes go into the database
    with the rest, so a failed commit leaves nothing behind. Returns the report.
    Flushes, never commits.
    """
    year = now.astimezone(VN_TZ).year  # the officer's year: a report at 00:30 on 1 January is next year's
    seq, reference = next_reference(session, year)
    if quota is not None and files:
        # after next_reference: its row lock queues concurrent reports, so the sums are exact
        charge(session, quota, sum(len(f.data) for f in files), now=now)
    sent = {field.name: getattr(data, field.name) for field in fields(data)}  # its fields are the columns
    report = Report(reference=reference, year=year, seq=seq, **sent, source=source, created_at=now, updated_at=now)
    for kind, value in normalize_identifiers(
        phone=data.phone, email=data.email, account=data.bank_account, link=data.social_link
    ):
        report.identifiers.append(ReportIdentifier(kind=kind, value=value))
    for checked in files:
        report.files.append(
            ReportFile(
                public_id=secrets.token_urlsafe(12),
                stored_name=secrets.token_hex(16),
                original_name=checked.name,
                mime=checked.mime,
                size=len(checked.data),
                sha256=checked.sha256,
                created_at=now,
                blob=EvidenceBlob(data=checked.data),
            )
        )
    session.add(report)
    session.flush()
    session.add(
        OutboxMessage(
            event=EVENT_REPORT_CREATED,
            idempotency_key=f"{EVENT_REPORT_CREATED}:{reference}",
            report_id=report.id,
            payload=notification_payload(report),
            next_attempt_at=now,
            created_at=now,
        )
    )
    session.flush()
    # the people whose phone, email or name it names are told (never who reported)
    alerts.report_names_staff(
        session,
        reference=reference,
        phone=parse_phone(data.phone) if data.phone else None,
        email=parse_email(data.email) if data.email else None,
        claimed_name=data.claimed_name,
        channel=data.channel.value,
        at=now,
    )
    # the keyed chain then shows any later edit of this entry, a checkpoint its deletion
    details = {"channel": data.channel.value, "files": len(files)}
    audit.append(session, actor=f"public:{source}", action="report.receive", target=reference, details=details, now=now)
    return report


# What the webhook is told of a report, and what the full JSON adds, in this order.
# The reporter's contact person stays in the database; the agency is named so that
# the Centre can call it back.
NOTIFIED = (
    "channel",
    "claimed_name",
    "claimed_title",
    "claimed_unit",
    "staff_code",
    "phone",
    "email",
    "social_link",
    "bank_account",
    "amount_vnd",
    "occurred_at",
    "request_text",
    "reporter_agency",
)
STORED = (
    *NOTIFIED[:9],
    "request_text",
    "amount_vnd",
    "occurred_at",
    "evidence_text",
    "reporter_agency",
    "reporter_contact",
    "publish_agency",
    "language",
    "source",
)
TRIAGE = ("triage_note", "duplicate_of", "triaged_by", "triaged_at", "updated_at")


def _columns(report: Report, names: Sequence[str]) -> dict[str, Any]:
    """The named columns of ``report`` as JSON values (states as words, times ISO)."""
    values = {name: getattr(report, name) for name in names}
    return {
        name: v.value if isinstance(v, Enum) else v.isoformat() if isinstance(v, datetime) else v
        for name, v in values.items()
    }


def notification_payload(report: Report) -> dict[str, Any]:
    """What the webhook receives about a new report."""
    head = {"event": EVENT_REPORT_CREATED, "reference": report.reference, "created_at": report.created_at.isoformat()}
    return {**head, **_columns(report, NOTIFIED), "files": len(report.files)}


def report_json(report: Report, *, full: bool = False) -> dict[str, Any]:
    """The report as JSON. ``full`` (CLI, admins) adds every stored field."""
    out: dict[str, Any] = {
        "reference": report.reference,
        "status": report.status.value,
        "created_at": report.created_at.isoformat(),
    }
    if not full:
        return out
    files = [
        {"id": f.public_id, "name": f.original_name, "mime": f.mime, "size": f.size, "sha256": f.sha256}
        for f in report.files
    ]
    return {
        **out,
        **_columns(report, STORED),
        "identifiers": [{"kind": i.kind.value, "value": i.value} for i in report.identifiers],
        "files": files,
        **_columns(report, TRIAGE),
    }


def parse_reference(value: str) -> str:
    """A reference in its stored form ("bc-2026-000123 " -> "BC-2026-000123")."""
    ref = value.strip().upper()
    if REFERENCE_RE.match(ref):
        return ref
    raise ValidationError(N_("A reference looks like BC-2026-000123."), field="reference")


def find_report(session: Session, reference: str) -> Report | None:
    return session.scalar(select(Report).where(Report.reference == reference))
