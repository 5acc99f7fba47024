"""Triage of impersonation reports, for the admin console and the CLI.

Stable API (the admin console in ``verify/reports/admin.py`` calls it):

- ``list_reports(session, *, status=None, limit=50, offset=0) -> list[Report]``,
  newest first; ``count_reports(session, *, status=None) -> int``;
- ``get_report(session, reference) -> Report`` (raises NotFoundError), with its
  ``files`` and ``identifiers``;
- ``triage(session, reference, to, *, note, actor, now, duplicate_of=None) -> Report``
  (raises TransitionError, ValidationError, NotFoundError, ConflictError);
- ``allowed_transitions(status) -> list[ReportStatus]`` (what to offer on screen);
- ``evidence_file(session, report_ref, file_id) -> (bytes, mime, name)``
  (raises NotFoundError).

Lifecycle: ``new -> reviewing -> confirmed | not_impersonation | duplicate``; an
outcome can be reopened (back to reviewing). Every change is audited. Confirming a
report is what makes its identifiers answer ``reported_impostor`` in lookups
(``verify.reports.identifiers.impostor_record`` counts confirmed reports only), so there is
nothing else to update here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from keys.errors import N_
from registry.audit import service as audit
from verify.errors import ConflictError, NotFoundError, TransitionError, ValidationError
from verify.reports.intake import find_report, parse_reference
from verify.reports.models import REPORT_TRANSITIONS, EvidenceBlob, Report, ReportFile, ReportStatus

MAX_NOTE = 2000
MAX_PAGE = 500  # one screen or one CLI page; exports stream everything instead
# an outcome must say why: the next reviewer and the audit log rely on it
NOTE_REQUIRED = frozenset({ReportStatus.CONFIRMED, ReportStatus.NOT_IMPERSONATION, ReportStatus.DUPLICATE})


def allowed_transitions(status: ReportStatus) -> list[ReportStatus]:
    """The statuses a report in ``status`` may move to, in lifecycle order."""
    return [s for s in ReportStatus if s in REPORT_TRANSITIONS[status]]


def list_reports(
    session: Session, *, status: ReportStatus | None = None, limit: int = 50, offset: int = 0
) -> list[Report]:
    """Reports newest first, optionally of one status; ``limit`` is capped at 500."""
    if limit < 1 or offset < 0:
        raise ValidationError("limit must be positive and offset not negative", field="limit")
    query = select(Report).order_by(Report.created_at.desc(), Report.id.desc())
    if status is not None:
        query = query.where(Report.status == status)
    query = query.limit(min(limit, MAX_PAGE)).offset(offset)
    return list(session.scalars(query.options(selectinload(Report.files), selectinload(Report.identifiers))))


def count_reports(session: Session, *, status: ReportStatus | None = None) -> int:
    query = select(func.count(Report.id))
    if status is not None:
        query = query.where(Report.status == status)
    return int(session.scalar(query) or 0)


def all_reports(session: Session) -> list[Report]:
    """Every report, oldest first (exports)."""
    query = select(Report).order_by(Report.year, Report.seq)
    return list(session.scalars(query.options(selectinload(Report.files), selectinload(Report.identifiers))))


def get_report(session: Session, reference: str) -> Report:
    """The report with this reference (any case, surrounding spaces ignored)."""
    ref = parse_reference(reference)
    report = find_report(session, ref)
    if report is None:
        raise NotFoundError(N_("No report has the reference %(ref)s."), params={"ref": ref}, field="reference")
    return report


def triage(
    session: Session,
    reference: str,
    to: ReportStatus,
    *,
    note: str | None,
    actor: str,
    now: datetime,
    duplicate_of: str | None = None,
) -> Report:
    """Move a report to ``to`` with a note, audited; returns the report.

    Raises TransitionError when the lifecycle forbids the move, ValidationError when
    an outcome has no note or ``duplicate_of`` is not another existing report, and
    ConflictError when someone else changed the report at the same moment.
    """
    report = get_report(session, reference)
    previous = report.status
    if to not in REPORT_TRANSITIONS[previous]:
        raise TransitionError(
            N_("Report %(ref)s is %(now)s; it cannot become %(to)s."),
            params={"ref": report.reference, "now": previous.value, "to": to.value},
            field="to",
        )
    clean_note = " ".join((note or "").split()) or None
    if clean_note is not None and len(clean_note) > MAX_NOTE:
        raise ValidationError(
            N_("The note is too long: at most %(max)d characters."), params={"max": MAX_NOTE}, field="note"
        )
    if to in NOTE_REQUIRED and not clean_note:
        raise ValidationError(N_("Say in a note why the report is %(to)s."), params={"to": to.value}, field="note")
    original: str | None = None
    if to is ReportStatus.DUPLICATE and duplicate_of:
        original = parse_reference(duplicate_of)
        if original == report.reference or find_report(session, original) is None:
            raise ValidationError(
                N_("%(ref)s is not another existing report."), params={"ref": original}, field="duplicate_of"
            )
    # compare-and-set: two reviewers deciding at once cannot both win
    changed = session.execute(
        update(Report)
        .where(Report.id == report.id, Report.status == previous)
        .values(
            status=to,
            triage_note=clean_note,
            duplicate_of=original,
            triaged_by=actor[:64],
            triaged_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            N_("Report %(ref)s was changed by someone else; reload it."), params={"ref": report.reference}
        )
    session.refresh(report)
    details = {"from": previous.value, "to": to.value, "note": clean_note, "duplicate_of": original}
    audit.append(session, actor=actor, action="report.triage", target=report.reference, details=details, now=now)
    return report


def evidence_file(session: Session, report_ref: str, file_id: str) -> tuple[bytes, str, str]:
    """(bytes, content type, original name) of one evidence file of a report, read
    from the database: any instance serves it. For signed-in admins only: the caller
    checks. Raises NotFoundError for an unknown file, or one whose bytes never
    reached the database (missing from the evidence folder when h14e_0011 ran)."""
    report = get_report(session, report_ref)
    found = session.execute(
        select(ReportFile.mime, ReportFile.original_name, EvidenceBlob.data)
        .outerjoin(EvidenceBlob, EvidenceBlob.file_id == ReportFile.id)
        .where(ReportFile.report_id == report.id, ReportFile.public_id == file_id[:32])
    ).first()
    if found is None:
        raise NotFoundError(N_("This report has no such file."), field="file")
    if found.data is None:
        raise NotFoundError(N_("The evidence file is missing from the server's storage."), field="file")
    return bytes(found.data), found.mime, found.original_name


READ_ACTIONS = frozenset({"report.view", "report.evidence_view", "report.evidence_download"})


def record_read(
    session: Session, reference: str, *, action: str, actor: str, now: datetime, file_id: str | None = None
) -> None:
    """Audit that ``actor`` read a report's personal data (``report.view``: the page
    with the reporter's contact) or one of its evidence files (shown re-encoded, or the
    original downloaded). The entry names who and which report (and file), never what
    was read."""
    if action not in READ_ACTIONS:
        raise ValueError(f"not a read of a report: {action}")
    details = {"file": file_id} if file_id is not None else {}
    audit.append(session, actor=actor, action=action, target=reference, details=details, now=now)


def record_bulk_read(session: Session, references: list[str], *, action: str, actor: str, now: datetime) -> None:
    """Audit one read of many reports with their personal data (``reports list
    --json``: ``report.list``, with every reference; ``reports export``:
    ``report.export``, with how many and the first and last reference)."""
    if action == "report.list":
        details: dict[str, object] = {"references": references}
    elif action == "report.export":
        details = {"count": len(references), "first": references[0] if references else None}
        details["last"] = references[-1] if references else None
    else:
        raise ValueError(f"not a read of reports: {action}")
    audit.append(session, actor=actor, action=action, target=f"{len(references)} reports", details=details, now=now)
