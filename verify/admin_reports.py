"""The console screens that need the impersonation reports, which live on the public
side (``verify``): the dashboard (registry counts, reports by status and a chart of
reports per week, drawn on the server as SVG), the report queue, a report with its
triage form, and the evidence viewer (files served only to signed-in admins and
reviewers). ``registry`` never imports ``verify``, hence this blueprint here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from registry.auth import ALL_ROLES, actor_name, no_store, require_role
from registry.errors import N_, ValidationError
from registry.models import Credential, CredentialKind, CredentialStatus, Staff, StaffStatus
from registry.models_admin import AdminRole
from registry.views import STATUS_LABELS
from registry.web import VN_TZ, db, now
from verify import triage
from verify.models import Report, ReportStatus

bp = Blueprint("admin_reports", __name__, url_prefix="/admin")
bp.after_request(no_store)

CHART_WEEKS = 26  # six months
CHART_WIDTH = 560
CHART_HEIGHT = 180
CHART_TOP = 12  # room for the top bar's count
CHART_BOTTOM = 24  # room for the date labels
CHART_LABEL_EVERY = 4  # a date under every fourth week keeps the labels apart at 360 px


@dataclass(frozen=True)
class Bar:
    start: datetime
    count: int
    x: float
    y: float
    width: float
    height: float
    label: bool
    anchor: str  # of the date label: the last one ends at the edge instead of overflowing it


def weekly_report_counts(session: Session, *, at: datetime, weeks: int = CHART_WEEKS) -> list[tuple[datetime, int]]:
    """Reports received per week (Monday to Sunday, Viet Nam time), oldest first, the
    current week last."""
    today = at.astimezone(VN_TZ).date()
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=VN_TZ)
    counts = [0] * weeks
    for created in session.scalars(select(Report.created_at).where(Report.created_at >= start)):
        index = (created.astimezone(VN_TZ).date() - first).days // 7
        if 0 <= index < weeks:
            counts[index] += 1
    return [(start + timedelta(weeks=i), counts[i]) for i in range(weeks)]


def chart_bars(weeks: list[tuple[datetime, int]]) -> tuple[list[Bar], int]:
    """Bar geometry in the SVG's own units; returns the bars and the scale's maximum."""
    top = max([c for _, c in weeks] + [1])
    slot = CHART_WIDTH / max(len(weeks), 1)
    usable = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    bars = []
    for i, (start, count) in enumerate(weeks):
        height = usable * count / top
        bars.append(
            Bar(
                start=start,
                count=count,
                x=round(i * slot + slot * 0.15, 1),
                y=round(CHART_TOP + usable - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=(len(weeks) - 1 - i) % CHART_LABEL_EVERY == 0,
                anchor="end" if i == len(weeks) - 1 else "middle",
            )
        )
    return bars, top


@bp.get("/")
@require_role(*ALL_ROLES)
def dashboard() -> str:
    session = db()
    at = now()
    active_staff = session.scalar(select(func.count()).where(Staff.status == StaffStatus.ACTIVE)) or 0
    staff_creds = select(func.count()).where(Credential.kind == CredentialKind.STAFF)
    creds = {
        "valid": session.scalar(
            staff_creds.where(Credential.status == CredentialStatus.VALID, Credential.expires_at > at)
        )
        or 0,
        "expired": session.scalar(
            staff_creds.where(Credential.status == CredentialStatus.VALID, Credential.expires_at <= at)
        )
        or 0,
        "suspended": session.scalar(staff_creds.where(Credential.status == CredentialStatus.SUSPENDED)) or 0,
        "revoked": session.scalar(staff_creds.where(Credential.status == CredentialStatus.REVOKED)) or 0,
    }
    reports = [(s, triage.count_reports(session, status=s)) for s in ReportStatus]
    weeks = weekly_report_counts(session, at=at)
    bars, _scale = chart_bars(weeks)
    return render_template(
        "admin/dashboard.html",
        active_staff=active_staff,
        creds=creds,
        reports=reports,
        bars=bars,
        top=max(c for _, c in weeks) if weeks else 0,
        chart={"width": CHART_WIDTH, "height": CHART_HEIGHT, "base": CHART_HEIGHT - CHART_BOTTOM},
        total_chart=sum(c for _, c in weeks),
    )


# ---------------------------------------------------------------- reports

REVIEWERS = (AdminRole.ADMIN, AdminRole.REVIEWER)
PAGE_SIZE = 50
MAX_PAGE = 10_000
INLINE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp"})
# evidence is attacker-supplied: the browser may show it, never run it or frame it
EVIDENCE_CSP = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"


def _status_filter() -> ReportStatus | None:
    raw = request.args.get("status", "")[:24]
    try:
        return ReportStatus(raw) if raw else None
    except ValueError:
        return None


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1


@bp.get("/reports")
@require_role(*REVIEWERS)
def report_queue() -> str:
    status = _status_filter()
    page = _page()
    session = db()
    total = triage.count_reports(session, status=status)
    reports = triage.list_reports(session, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "admin/reports.html",
        reports=reports,
        status=status.value if status else "",
        statuses=list(ReportStatus),
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        total=total,
    )


@bp.get("/reports/<reference>")
@require_role(*REVIEWERS)
def report_detail(reference: str) -> str:
    report = triage.get_report(db(), reference[:32])
    return render_template(
        "admin/report_detail.html",
        report=report,
        transitions=triage.allowed_transitions(report.status),
        inline_mimes=INLINE_MIMES,
        max_note=triage.MAX_NOTE,
    )


@bp.post("/reports/<reference>/triage")
@require_role(*REVIEWERS)
def report_triage(reference: str) -> Response:
    raw_to = request.form.get("to", "")[:24]
    try:
        to = ReportStatus(raw_to)
    except ValueError:
        raise ValidationError(N_("unknown status"), field="to") from None
    note = request.form.get("note", "")
    if len(note) > triage.MAX_NOTE:
        raise ValidationError(f"note is longer than {triage.MAX_NOTE} characters", field="note")
    duplicate_of = request.form.get("duplicate_of", "")[:32].strip() or None
    report = triage.triage(
        db(), reference[:32], to, note=note, actor=actor_name(), now=now(), duplicate_of=duplicate_of
    )
    db().commit()
    flash(_("Report %(ref)s is now %(status)s.", ref=report.reference, status=STATUS_LABELS[report.status.value]))
    return redirect(url_for("admin_reports.report_detail", reference=report.reference))


@bp.get("/reports/<reference>/files/<file_id>")
@require_role(*REVIEWERS)
def report_file(reference: str, file_id: str) -> Response:
    """One evidence file, exactly as received, to signed-in admins and reviewers only.
    Images open inline (sandboxed), anything else downloads."""
    path, mime, name = triage.evidence_file(db(), reference[:32], file_id[:32], root=current_app.instance_path)
    resp = send_file(
        path,
        mimetype=mime,
        as_attachment=mime not in INLINE_MIMES,
        download_name=name or "evidence",
        max_age=0,
    )
    resp.headers["Content-Security-Policy"] = EVIDENCE_CSP
    resp.headers["Cache-Control"] = "no-store"
    return resp
