"""Intake of impersonation reports: validation of what the officer sent (form or
JSON), the gapless per-year reference number, and the write of the report, its
identifiers, its evidence and its webhook notification in one transaction.

``validate_report`` is pure (no database); ``submit_report`` writes and flushes,
and the caller commits. A report, once its request is answered with a reference,
is stored; nothing is dropped silently: every refusal is an error the sender sees.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry import audit
from registry.errors import ValidationError
from registry.normalize import parse_email, parse_phone
from registry.web import VN_TZ
from verify import evidence, evidence_quota
from verify.evidence import CheckedFile
from verify.evidence_quota import Quota
from verify.identifiers import normalize_account, normalize_identifiers
from verify.models import OutboxMessage, Report, ReportChannel, ReportCounter, ReportFile, ReportIdentifier

REFERENCE_PREFIX = "BC"  # "báo cáo": what the officer quotes on the phone
REFERENCE_RE = re.compile(r"^BC-(\d{4})-(\d{6})$")
MAX_PER_YEAR = 999_999  # six digits; more reports than that in a year would need a new format
MAX_AMOUNT_VND = 10**13  # ten thousand billion dong: far above any real demand, below bigint
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones; an event cannot be later than that
HONEYPOT = "website"  # hidden from people by CSS; bots fill every field
EVENT_REPORT_CREATED = "report.created"

# field -> (maximum length, required); lengths are characters after trimming
SHORT_FIELDS: dict[str, tuple[int, bool]] = {
    "claimed_name": (200, False),
    "claimed_title": (200, False),
    "claimed_unit": (200, False),
    "staff_code": (64, False),
    "phone": (32, False),
    "email": (254, False),
    "social_link": (500, False),
    "bank_account": (100, False),
    "reporter_agency": (200, True),
    "reporter_contact": (200, True),
}
LONG_FIELDS: dict[str, tuple[int, bool]] = {
    "request_text": (4000, True),
    "evidence_text": (5000, False),
}
OTHER_FIELDS = ("channel", "amount_vnd", "occurred_at", HONEYPOT, "lang")
ALL_FIELDS = (*SHORT_FIELDS, *LONG_FIELDS, *OTHER_FIELDS)

LABELS = {
    "channel": _l("How they contacted you"),
    "claimed_name": _l("Name they gave"),
    "claimed_title": _l("Title they gave"),
    "claimed_unit": _l("Unit they gave"),
    "staff_code": _l("Staff code they gave"),
    "phone": _l("Their phone number"),
    "email": _l("Their email"),
    "social_link": _l("Their Zalo, Facebook or other account"),
    "bank_account": _l("Bank account they gave"),
    "request_text": _l("What they asked for"),
    "amount_vnd": _l("Amount asked (VND)"),
    "occurred_at": _l("Date of contact"),
    "evidence_text": _l("Other details"),
    "reporter_agency": _l("Your agency"),
    "reporter_contact": _l("Contact person (name and phone or email)"),
    "evidence": _l("Evidence files"),
    HONEYPOT: _l("Leave this empty"),
}
CHANNEL_LABELS = {
    ReportChannel.PHONE: _l("Phone call or SMS"),
    ReportChannel.EMAIL: _l("Email"),
    ReportChannel.ZALO: _l("Zalo"),
    ReportChannel.FACEBOOK: _l("Facebook"),
    ReportChannel.LETTER: _l("Letter or document"),
    ReportChannel.IN_PERSON: _l("In person"),
    ReportChannel.OTHER: _l("Other"),
}


class ReportInputError(ValidationError):
    """A report refused at the edge. ``code`` and ``field`` name the first problem;
    ``errors`` holds a message for every bad field (the form shows them all)."""

    def __init__(self, errors: Mapping[str, tuple[str, str]], *, status: int = 400) -> None:
        first_field, (code, message) = next(iter(errors.items()))
        super().__init__(message, field=first_field)
        self.code = code
        self.status = status
        self.errors = {name: msg for name, (_code, msg) in errors.items()}


class SpamError(ValidationError):
    code = "spam_suspected"


@dataclass(frozen=True, slots=True)
class ReportInput:
    """A validated report, ready to store. Free text is kept as typed (NFC, trimmed)."""

    channel: ReportChannel
    request_text: str
    reporter_agency: str
    reporter_contact: str
    claimed_name: str | None = None
    claimed_title: str | None = None
    claimed_unit: str | None = None
    staff_code: str | None = None
    phone: str | None = None
    email: str | None = None
    social_link: str | None = None
    bank_account: str | None = None
    amount_vnd: int | None = None
    occurred_at: datetime | None = None
    evidence_text: str | None = None
    language: str = "vi"


def _has_controls(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in text)


def _has_format_characters(text: str) -> bool:
    """Unicode format characters (Cf): bidi overrides and isolates, zero-width spaces
    and joiners, soft hyphens. Invisible, they can make a phone number or a name read
    otherwise than it is stored; lookups refuse them too."""
    return any(unicodedata.category(c) == "Cf" for c in text)


def _text(
    value: Any, name: str, max_len: int, required: bool, *, multiline: bool
) -> tuple[str | None, tuple[str, str] | None]:
    """(clean value, None) or (None, (code, message))."""
    label = LABELS[name]
    if value is None or value == "":
        if required:
            return None, ("required", _("%(label)s is required.", label=label))
        return None, None
    if not isinstance(value, str):
        return None, ("wrong_type", _("%(label)s must be text.", label=label))
    if multiline:
        text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
        bad = _has_controls(text, "\n\t")
    else:
        text = unicodedata.normalize("NFC", " ".join(value.split()))
        bad = _has_controls(text)
    if not text:
        if required:
            return None, ("required", _("%(label)s is required.", label=label))
        return None, None
    if len(text) > max_len:
        return None, ("too_long", _("%(label)s is too long: at most %(max)d characters.", label=label, max=max_len))
    if bad:
        return None, ("control_characters", _("%(label)s contains invisible control characters.", label=label))
    if _has_format_characters(text):
        return None, (
            "format_characters",
            _(
                "%(label)s contains invisible formatting characters (such as direction marks or zero-width "
                "spaces). Delete them or type the text again.",
                label=label,
            ),
        )
    return text, None


def _amount(value: Any) -> tuple[int | None, tuple[str, str] | None]:
    label = LABELS["amount_vnd"]
    if value is None or value == "":
        return None, None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None, ("wrong_type", _("%(label)s must be a whole number of dong.", label=label))
    if isinstance(value, str):
        digits = re.sub(r"[\s.,]", "", value.strip().removesuffix("đ").removesuffix("VND").strip())
        if not digits.isascii() or not digits.isdigit() or len(digits) > 16:
            return None, ("invalid_amount", _("%(label)s must be a whole number of dong.", label=label))
        value = int(digits)
    if not 0 <= value <= MAX_AMOUNT_VND:
        return None, ("invalid_amount", _("%(label)s is not a plausible amount.", label=label))
    return value, None


def _when(value: Any, now: datetime) -> tuple[datetime | None, tuple[str, str] | None]:
    """YYYY-MM-DD or YYYY-MM-DDTHH:MM (Viet Nam time), or ISO 8601 with an offset."""
    label = LABELS["occurred_at"]
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        return None, ("wrong_type", _("%(label)s must be a date like 2026-11-20.", label=label))
    text = value.strip()
    try:
        if len(text) > 32:
            raise ValueError(text)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(12), tzinfo=VN_TZ)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=VN_TZ)
    except ValueError:
        return None, ("invalid_date", _("%(label)s must be a date like 2026-11-20.", label=label))
    moment = moment.astimezone(UTC)
    if moment < EARLIEST_EVENT or moment > now + FUTURE_SLACK:
        return None, ("invalid_date", _("%(label)s cannot be in the future or before 2000.", label=label))
    return moment, None


def validate_report(
    raw: Mapping[str, Any], *, now: datetime, language: str = "vi", strict: bool = False
) -> ReportInput:
    """Check every field of a report; returns it cleaned or raises ReportInputError
    with a message per bad field. ``strict`` (the JSON API) also refuses unknown
    fields. A filled honeypot raises SpamError. Touches no database."""
    errors: dict[str, tuple[str, str]] = {}
    if strict:
        unknown = sorted(str(k) for k in raw if k not in ALL_FIELDS)  # a nameless multipart part is None
        if unknown:
            name = str(unknown[0])[:64]
            errors[name] = ("unknown_field", _("%(name)s is not a field of a report.", name=name))
    if raw.get(HONEYPOT):
        raise SpamError(
            _("This report looks automated and was not accepted. Leave the last field empty."), field=HONEYPOT
        )
    values: dict[str, Any] = {}
    channel_raw = raw.get("channel")
    if channel_raw in (None, ""):
        errors["channel"] = ("required", _("%(label)s is required.", label=LABELS["channel"]))
    elif not isinstance(channel_raw, str) or channel_raw not in ReportChannel.__members__.values():
        errors["channel"] = ("invalid_choice", _("%(label)s: choose one of the listed ways.", label=LABELS["channel"]))
    else:
        values["channel"] = ReportChannel(channel_raw)
    for name, (max_len, required) in SHORT_FIELDS.items():
        values[name], problem = _text(raw.get(name), name, max_len, required, multiline=False)
        if problem:
            errors[name] = problem
    for name, (max_len, required) in LONG_FIELDS.items():
        values[name], problem = _text(raw.get(name), name, max_len, required, multiline=True)
        if problem:
            errors[name] = problem
    if values.get("phone") and parse_phone(values["phone"]) is None:
        errors["phone"] = ("invalid_phone", _("%(label)s: not a valid phone number.", label=LABELS["phone"]))
    if values.get("email") and parse_email(values["email"]) is None:
        errors["email"] = ("invalid_email", _("%(label)s: not a valid email address.", label=LABELS["email"]))
    if values.get("bank_account") and normalize_account(values["bank_account"]) is None:
        errors["bank_account"] = (
            "invalid_account",
            _(
                "%(label)s: write the account number (6 to 34 digits), the bank name may follow.",
                label=LABELS["bank_account"],
            ),
        )
    values["amount_vnd"], problem = _amount(raw.get("amount_vnd"))
    if problem:
        errors["amount_vnd"] = problem
    values["occurred_at"], problem = _when(raw.get("occurred_at"), now)
    if problem:
        errors["occurred_at"] = problem
    if errors:
        raise ReportInputError(errors)
    return ReportInput(language=language, **values)


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
        raise ValidationError(_("The report register for this year is full. Call the Centre."), field=None)
    return seq, f"{REFERENCE_PREFIX}-{year:04d}-{seq:06d}"


def submit_report(
    session: Session,
    data: ReportInput,
    files: Sequence[CheckedFile] = (),
    *,
    evidence_folder: Path,
    source: str,
    now: datetime,
    quota: Quota | None = None,
) -> tuple[Report, list[str]]:
    """Store a validated report with its identifiers, evidence, outbox message and
    audit entry (``report.receive``; the reporter's details stay out of the log).

    With ``quota`` (the public intake), the files are first counted against it
    (``evidence_quota.charge``; EvidenceError if over, before any file is written).
    Returns the report and the names of the evidence files written, so that the
    caller can remove them if its commit fails (the database part rolls back by
    itself). Flushes, never commits.
    """
    year = now.astimezone(VN_TZ).year  # the officer's year: a report at 00:30 on 1 January is next year's
    seq, reference = next_reference(session, year)
    if quota is not None and files:
        # after next_reference: its row lock queues concurrent reports, so the sums are exact
        evidence_quota.charge(session, quota, sum(len(f.data) for f in files), now=now)
    report = Report(
        reference=reference,
        year=year,
        seq=seq,
        channel=data.channel,
        claimed_name=data.claimed_name,
        claimed_title=data.claimed_title,
        claimed_unit=data.claimed_unit,
        staff_code=data.staff_code,
        phone=data.phone,
        email=data.email,
        social_link=data.social_link,
        bank_account=data.bank_account,
        request_text=data.request_text,
        amount_vnd=data.amount_vnd,
        occurred_at=data.occurred_at,
        evidence_text=data.evidence_text,
        reporter_agency=data.reporter_agency,
        reporter_contact=data.reporter_contact,
        language=data.language,
        source=source,
        created_at=now,
        updated_at=now,
    )
    for kind, value in normalize_identifiers(
        phone=data.phone, email=data.email, account=data.bank_account, link=data.social_link
    ):
        report.identifiers.append(ReportIdentifier(kind=kind, value=value))
    written: list[str] = []
    try:
        for checked in files:
            stored = evidence.store(evidence_folder, checked.data)
            written.append(stored)
            report.files.append(
                ReportFile(
                    public_id=secrets.token_urlsafe(12),
                    stored_name=stored,
                    original_name=checked.name,
                    mime=checked.mime,
                    size=len(checked.data),
                    sha256=checked.sha256,
                    created_at=now,
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
        # the hash chain then proves that no report was deleted afterwards
        audit.append(
            session,
            actor=f"public:{source}",
            action="report.receive",
            target=reference,
            details={"channel": data.channel.value, "files": len(files)},
            now=now,
        )
    except BaseException:
        evidence.remove(evidence_folder, written)
        raise
    return report, written


def notification_payload(report: Report) -> dict[str, Any]:
    """What the webhook receives about a new report. The reporter's contact person
    stays in the database; the agency is named so the Centre can call it back."""
    return {
        "event": EVENT_REPORT_CREATED,
        "reference": report.reference,
        "created_at": report.created_at.isoformat(),
        "channel": report.channel.value,
        "claimed_name": report.claimed_name,
        "claimed_title": report.claimed_title,
        "claimed_unit": report.claimed_unit,
        "staff_code": report.staff_code,
        "phone": report.phone,
        "email": report.email,
        "social_link": report.social_link,
        "bank_account": report.bank_account,
        "amount_vnd": report.amount_vnd,
        "occurred_at": report.occurred_at.isoformat() if report.occurred_at else None,
        "request_text": report.request_text,
        "reporter_agency": report.reporter_agency,
        "files": len(report.files),
    }


def report_json(report: Report, *, full: bool = False) -> dict[str, Any]:
    """The report as JSON. ``full`` (CLI, admins) adds every stored field."""
    out: dict[str, Any] = {
        "reference": report.reference,
        "status": report.status.value,
        "created_at": report.created_at.isoformat(),
    }
    if not full:
        return out
    out.update(
        {
            "channel": report.channel.value,
            "claimed_name": report.claimed_name,
            "claimed_title": report.claimed_title,
            "claimed_unit": report.claimed_unit,
            "staff_code": report.staff_code,
            "phone": report.phone,
            "email": report.email,
            "social_link": report.social_link,
            "bank_account": report.bank_account,
            "request_text": report.request_text,
            "amount_vnd": report.amount_vnd,
            "occurred_at": report.occurred_at.isoformat() if report.occurred_at else None,
            "evidence_text": report.evidence_text,
            "reporter_agency": report.reporter_agency,
            "reporter_contact": report.reporter_contact,
            "language": report.language,
            "source": report.source,
            "identifiers": [{"kind": i.kind.value, "value": i.value} for i in report.identifiers],
            "files": [
                {"id": f.public_id, "name": f.original_name, "mime": f.mime, "size": f.size, "sha256": f.sha256}
                for f in report.files
            ],
            "triage_note": report.triage_note,
            "duplicate_of": report.duplicate_of,
            "triaged_by": report.triaged_by,
            "triaged_at": report.triaged_at.isoformat() if report.triaged_at else None,
            "updated_at": report.updated_at.isoformat(),
        }
    )
    return out


def parse_reference(value: str) -> str:
    """A reference in its stored form ("bc-2026-000123 " -> "BC-2026-000123")."""
    ref = value.strip().upper()
    if not REFERENCE_RE.match(ref):
        raise ValidationError(_("A reference looks like BC-2026-000123."), field="reference")
    return ref


def find_report(session: Session, reference: str) -> Report | None:
    return session.scalar(select(Report).where(Report.reference == reference))
