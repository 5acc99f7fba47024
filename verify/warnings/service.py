"""Publishing confirmed reports as public warnings, withdrawing them, and finding
the warnings that name an identifier (lookups) or a card (the verdict page).

A warning is public while it is not withdrawn and its report is still confirmed: a
report reopened for review takes its warning off every public place until it is
confirmed again. Nothing here ever copies the reporter's contact, and the reporter's
agency only when they agreed (``Report.publish_agency``). Every change is audited.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from keys.contract import VN_TZ
from keys.errors import N_, Message
from keys.text import display_phone, fold_name
from registry.audit import service as audit
from registry.platform.prepared import Compiled, prepared_for
from registry.staff.models import Staff
from verify.errors import ConflictError, NotFoundError, TransitionError, ValidationError, WithdrawnError
from verify.reports.intake import find_report, parse_reference
from verify.reports.models import IdentifierKind, Report, ReportIdentifier, ReportStatus
from verify.reports.validation import check_text
from verify.warnings.models import PublicWarning

MAX_TEXT = 2000
MAX_ASKED = 4000
MAX_REASON = 1000
PAGE_SIZE = 20
CONTACT_PARTS = re.compile(r"[,;/|()]| - |\d[\d .\-]{5,}\d")  # names, split from numbers and each other
DIGIT_RUNS = re.compile(r"\+?\d[\d .\-]{5,}\d")
DIGITS = re.compile(r"\d")
MIN_SECRET = 3
MIN_PHONE_DIGITS = 7
# the order in which a warning lists the impostor's identifiers
IDENTIFIER_ORDER = (IdentifierKind.PHONE, IdentifierKind.EMAIL, IdentifierKind.LINK, IdentifierKind.ACCOUNT)


@dataclass(frozen=True, slots=True)
class WarningRef:
    """What a lookup or a verdict says of a warning: which one, and since when."""

    id: int
    published_at: datetime


def _public() -> Select[PublicWarning]:
    """Warnings the public may see: not withdrawn, and their report still confirmed."""
    return (
        select(PublicWarning)
        .join(Report, Report.id == PublicWarning.report_id)
        .where(PublicWarning.withdrawn_at.is_(None), Report.status == ReportStatus.CONFIRMED)
    )


def _clean(value: Any, field: str, label: str, max_len: int, *, required: bool) -> str | None:
    text, problem = check_text(value, Message(label), max_len, required, multiline=True)
    if problem is not None:
        code, message = problem
        raise ValidationError(message.id, params=message.params, code=code, field=field)
    return text


def _shown_identifiers(report: Report) -> list[dict[str, str]]:
    """The report's normalised identifiers as the public reads them (phones written
    the Vietnamese way), in a fixed order."""
    rank = {kind: i for i, kind in enumerate(IDENTIFIER_ORDER)}
    shown = []
    for ident in sorted(report.identifiers, key=lambda i: (rank.get(i.kind, 99), i.value)):
        value = display_phone(ident.value) if ident.kind is IdentifierKind.PHONE else ident.value
        shown.append({"kind": ident.kind.value, "value": value})
    return shown


def _names_the_reporter(report: Report, texts: list[str]) -> bool:
    """Whether published text would name the reporter: their contact, or their
    agency when they did not agree to be named. Compared folded (case, accents,
    spacing), since the reviewer may have copied it from the report."""
    # the contact is free text ("Trần Thị Lan, 0239 385 5555"): each of its parts counts
    secrets = [part for part in CONTACT_PARTS.split(report.reporter_contact or "") if part.strip()]
    if not report.publish_agency:
        secrets.append(report.reporter_agency)
    folded_texts = [fold_name(t) for t in texts]
    for secret in secrets:
        folded = fold_name(secret)
        if len(folded) >= MIN_SECRET and any(folded in t for t in folded_texts):
            return True
    # phone numbers in any spelling: the last nine digits of every run of digits
    digits_in_texts = ["".join(DIGITS.findall(t)) for t in texts]
    for run in DIGIT_RUNS.findall(report.reporter_contact or ""):
        tail = "".join(DIGITS.findall(run))[-9:]
        if len(tail) >= MIN_PHONE_DIGITS and any(tail in d for d in digits_in_texts):
            return True
    return False


def _vn_date(moment: datetime) -> date:
    return moment.astimezone(VN_TZ).date()


def publish(
    session: Session, reference: str, *, text: Any, asked: Any = None, actor: str, now: datetime
) -> PublicWarning:
    """Publish the confirmed report ``reference`` as a warning with the reviewer's
    ``text``; ``asked`` (what the impostor asked for) defaults to the report's own
    account of it. Raises NotFoundError, TransitionError (the report is not
    confirmed), ConflictError (it is already published), ValidationError."""
    report = find_report(session, parse_reference(reference))
    if report is None:
        raise NotFoundError(
            N_("No report has the reference %(ref)s."), params={"ref": parse_reference(reference)}, field="reference"
        )
    if report.status is not ReportStatus.CONFIRMED:
        raise TransitionError(
            N_("Report %(ref)s is %(now)s: only a confirmed report can be published as a warning."),
            params={"ref": report.reference, "now": report.status.value},
            field="reference",
        )
    existing = session.scalar(
        select(PublicWarning.id).where(PublicWarning.report_id == report.id, PublicWarning.withdrawn_at.is_(None))
    )
    if existing is not None:
        raise ConflictError(
            N_("Report %(ref)s is already published as warning %(id)d."),
            params={"ref": report.reference, "id": existing},
        )
    clean_text = _clean(text, "text", N_("The warning's text"), MAX_TEXT, required=True) or ""
    clean_asked = _clean(asked, "asked", N_("What they asked for"), MAX_ASKED, required=False) or report.request_text
    if _names_the_reporter(report, [clean_text, clean_asked]):
        raise ValidationError(
            N_(
                "The text names the reporter (their contact, or an agency that did not agree to be named). "
                "Write the warning without it."
            ),
            field="text",
        )
    start = _vn_date(report.occurred_at or report.created_at)
    warning = PublicWarning(
        report_id=report.id,
        identifiers=_shown_identifiers(report),
        claimed_name=report.claimed_name,
        claimed_unit=report.claimed_unit,
        staff_code=report.staff_code.upper() if report.staff_code else None,
        channel=report.channel.value,
        asked=clean_asked,
        amount_vnd=report.amount_vnd,
        period_start=start,
        period_end=max(start, _vn_date(report.created_at)),
        text=clean_text,
        agency=report.reporter_agency if report.publish_agency else None,
        published_by=actor[:64],
        published_at=now,
    )
    session.add(warning)
    session.flush()
    details = {"report": report.reference}
    audit.append(session, actor=actor, action="warning.publish", target=str(warning.id), details=details, now=now)
    return warning


def withdraw(session: Session, warning_id: int, *, reason: Any = None, actor: str, now: datetime) -> PublicWarning:
    """Take warning ``warning_id`` off the public pages and the feed, audited."""
    warning = session.get(PublicWarning, warning_id)
    if warning is None:
        raise NotFoundError(N_("There is no warning %(id)d."), params={"id": warning_id}, field="id")
    if warning.withdrawn_at is not None:
        raise ConflictError(N_("Warning %(id)d was already withdrawn."), params={"id": warning_id})
    warning.withdraw_reason = _clean(reason, "reason", N_("Reason"), MAX_REASON, required=False)
    warning.withdrawn_at = now
    warning.withdrawn_by = actor[:64]
    session.flush()
    details = {"report": warning.report.reference, "reason": warning.withdraw_reason}
    audit.append(session, actor=actor, action="warning.withdraw", target=str(warning.id), details=details, now=now)
    return warning


def published(session: Session, *, limit: int = PAGE_SIZE, offset: int = 0) -> list[PublicWarning]:
    """Public warnings, newest first."""
    query = _public().order_by(PublicWarning.published_at.desc(), PublicWarning.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_published(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(_public().subquery())) or 0)


def all_warnings(session: Session, *, limit: int = PAGE_SIZE, offset: int = 0) -> list[PublicWarning]:
    """Every warning ever published, withdrawn ones included, newest first (console, CLI)."""
    query = select(PublicWarning).order_by(PublicWarning.published_at.desc(), PublicWarning.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_all(session: Session) -> int:
    return int(session.scalar(select(func.count(PublicWarning.id))) or 0)


def get_public(session: Session, warning_id: int) -> PublicWarning:
    """One public warning; NotFoundError if there never was one, WithdrawnError if it
    was withdrawn or its report is being reviewed again."""
    warning = session.scalar(_public().where(PublicWarning.id == warning_id))
    if warning is not None:
        return warning
    if session.get(PublicWarning, warning_id) is not None:
        raise WithdrawnError(N_("This warning has been withdrawn by the Centre."), field="id")
    raise NotFoundError(N_("There is no warning %(id)d."), params={"id": warning_id}, field="id")


def last_change(session: Session) -> datetime | None:
    """When the set of public warnings last changed (a publication or a withdrawal)."""
    newest = session.scalar(select(func.max(PublicWarning.published_at)))
    withdrawn = session.scalar(select(func.max(PublicWarning.withdrawn_at)))
    triaged = session.scalar(
        select(func.max(Report.triaged_at)).join(PublicWarning, PublicWarning.report_id == Report.id)
    )
    moments = [m for m in (newest, withdrawn, triaged) if m is not None]
    return max(moments) if moments else None


def _public_refs(*conditions: ColumnElement[bool]) -> Select[int, datetime]:
    """Which public warnings meet ``conditions``, newest first: their ids and dates."""
    return (
        select(PublicWarning.id, PublicWarning.published_at)
        .join(Report, Report.id == PublicWarning.report_id)
        .where(PublicWarning.withdrawn_at.is_(None), Report.status == ReportStatus.CONFIRMED, *conditions)
        .order_by(PublicWarning.published_at.desc(), PublicWarning.id.desc())
    )


def _refs(db: Session | Connection, query: Select[int, datetime]) -> tuple[WarningRef, ...]:
    return tuple(WarningRef(row.id, row.published_at) for row in db.execute(query))


Named = ColumnElement[Any] | QueryableAttribute[Any]  # a parameter, or a column of the holder's row


def warnings_naming(db: Session | Connection, kind: IdentifierKind, value: str) -> tuple[WarningRef, ...]:
    """Public warnings whose report names the identifier (in its normal form)."""
    named = select(ReportIdentifier.report_id).where(ReportIdentifier.kind == kind, ReportIdentifier.value == value)
    return _refs(db, _public_refs(PublicWarning.report_id.in_(named)))


def _naming_staff(code: Named, phone: Named, email: Named) -> ColumnElement[bool]:
    """A warning names a staff member: by the staff code the impostor claimed, or by
    their own phone or email (E.164, case-folded) among its report's identifiers."""
    return or_(
        PublicWarning.staff_code == code,
        PublicWarning.report_id.in_(
            select(ReportIdentifier.report_id)
            .where(
                or_(
                    and_(ReportIdentifier.kind == IdentifierKind.PHONE, ReportIdentifier.value == phone),
                    and_(ReportIdentifier.kind == IdentifierKind.EMAIL, ReportIdentifier.value == email),
                )
            )
            .correlate_except(ReportIdentifier)  # a column of the holder's row is the enclosing query's
        ),
    )


# the verdict page's query (every scan of a card): built once, compiled once per dialect
_STAFF_WARNINGS = _public_refs(_naming_staff(bindparam("code"), bindparam("phone"), bindparam("email")))
# a column of the verification's own read (registry.queries.VerificationRead), correlated
# with the holder's row: whether any public warning names them. A NULL phone or email
# names no identifier, as "" does in warnings_naming_staff
STAFF_WARNED: ColumnElement[bool] = _public_refs(_naming_staff(Staff.code, Staff.phone, Staff.email)).exists()
_staff_reads: Compiled = weakref.WeakKeyDictionary()


def warnings_naming_staff(
    db: Session | Connection, code: str, *, phone: str | None = None, email: str | None = None
) -> tuple[WarningRef, ...]:
    """Public warnings whose report names this staff code (as claimed by the
    impostor), or the staff member's own phone or email (E.164, case-folded). Runs on
    a session or on a connection (the scan page's fast path), on the DB-API cursor."""
    conn = db.connection() if isinstance(db, Session) else db
    params = {"code": code.upper(), "phone": phone or "", "email": email or ""}  # "" names no identifier
    rows = prepared_for(_staff_reads, _STAFF_WARNINGS, conn).all(conn, params)
    return tuple(WarningRef(warning_id, published_at) for warning_id, published_at in rows)
