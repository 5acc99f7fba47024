"""The console screens that need the impersonation reports, which live on the public
side (``verify``): the dashboard (the registry's counts, reports by status and a
chart of reports per week, drawn on the server as SVG), the report queue, a report
with its triage form, and the evidence viewer (files served only to signed-in admins
and reviewers). ``registry`` never imports ``verify``, hence this blueprint here.
"""

from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from keys.errors import N_
from keys.root import keyset_health
from registry.accounts.auth import ALL_ROLES, REVIEWERS, actor_name, require_role
from registry.console import counts
from registry.console.views import add_to_menu
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.console import done, no_store
from registry.platform.db import db
from registry.platform.i18n import STATUS_WORDS
from verify.errors import NotFoundError
from verify.reports import triage
from verify.reports.chart import CHART_BOTTOM, CHART_HEIGHT, CHART_WIDTH, chart_bars, weekly_report_counts
from verify.reports.display import DISPLAY_MIME, display_image
from verify.reports.models import ReportStatus

bp = Blueprint("admin_reports", __name__, url_prefix="/admin")
bp.after_request(no_store)
# the console's menu: the dashboard is its first page; the reports follow assignments
add_to_menu("admin_reports.dashboard", _l("Dashboard"), ALL_ROLES)
add_to_menu("admin_reports.report_queue", _l("Reports"), REVIEWERS, after="admin.assignments_list")


@bp.get("/")
@require_role(*ALL_ROLES)
def dashboard() -> str:
    session = db()
    at = now()
    reports = [(s, triage.count_reports(session, status=s)) for s in ReportStatus]
    weeks = weekly_report_counts(session, at=at)
    bars, _scale = chart_bars(weeks)
    return render_template(
        "admin/dashboard.html",
        active_staff=counts.active_staff(session),
        creds=counts.staff_cards(session, at=at),
        reports=reports,
        bars=bars,
        top=max(c for _, c in weeks) if weeks else 0,
        chart={"width": CHART_WIDTH, "height": CHART_HEIGHT, "base": CHART_HEIGHT - CHART_BOTTOM},
        total_chart=sum(c for _, c in weeks),
        keyset=keyset_health(session, now=at),
    )


# ---------------------------------------------------------------- reports

MAX_REFERENCE = 32
INLINE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp"})
# evidence is attacker-supplied: the browser shows only our re-encoded PNG of an image,
# downloads the original, and never runs or frames either
EVIDENCE_CSP = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"


@bp.get("/reports")
@require_role(*REVIEWERS)
def report_queue() -> str:
    status = forms.state_filter(ReportStatus)
    page = forms.page()
    session = db()
    total = triage.count_reports(session, status=status)
    reports = triage.list_reports(session, status=status, limit=page.size, offset=page.offset)
    return render_template(
        "admin/reports.html",
        reports=reports,
        status=status.value if status else "",
        statuses=list(ReportStatus),
        **page.shown(total),
    )


@bp.get("/reports/<reference>")
@require_role(*REVIEWERS)
def report_detail(reference: str) -> str:
    session = db()
    report = triage.get_report(session, reference[:MAX_REFERENCE])
    transitions = triage.allowed_transitions(report.status)
    # the page shows the reporter's contact: who read it is audited
    triage.record_read(session, report.reference, action="report.view", actor=actor_name(), now=now())
    session.commit()
    return render_template(
        "admin/report_detail.html",
        report=report,
        transitions=transitions,
        inline_mimes=INLINE_MIMES,
        max_note=triage.MAX_NOTE,
    )


@bp.post("/reports/<reference>/triage")
@require_role(*REVIEWERS)
def report_triage(reference: str) -> Response:
    to = forms.word(ReportStatus, request.form.get("to", ""))
    note = forms.field("note", triage.MAX_NOTE)
    duplicate_of = request.form.get("duplicate_of", "")[:MAX_REFERENCE].strip() or None
    report = triage.triage(
        db(), reference[:MAX_REFERENCE], to, note=note, actor=actor_name(), now=now(), duplicate_of=duplicate_of
    )
    return done(
        _("Report %(ref)s is now %(status)s.", ref=report.reference, status=STATUS_WORDS[report.status.value]),
        "admin_reports.report_detail",
        reference=report.reference,
    )


def _evidence(reference: str, file_id: str, action: str, *, images_only: bool = False) -> tuple[bytes, str, str]:
    """One evidence file's bytes, content type and original name; the read audited
    (nothing is read, nor recorded, when ``images_only`` and it is no image)."""
    session = db()
    ref, fid = reference[:MAX_REFERENCE], file_id[:MAX_REFERENCE]
    data, mime, name = triage.evidence_file(session, ref, fid)
    if images_only and mime not in INLINE_MIMES:
        raise NotFoundError(N_("This evidence file cannot be shown; download it."), field="file")
    triage.record_read(session, ref, action=action, actor=actor_name(), now=now(), file_id=fid)
    session.commit()
    return data, mime, name


def _guarded(resp: Response) -> Response:
    """Attacker-supplied content: never sniffed, never scripted or framed, never cached."""
    resp.headers["Content-Security-Policy"] = EVIDENCE_CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/reports/<reference>/files/<file_id>")
@require_role(*REVIEWERS)
def report_file(reference: str, file_id: str) -> Response:
    """One evidence file exactly as received, to signed-in admins and reviewers only,
    and only as a download: the browser never renders the raw bytes."""
    data, mime, name = _evidence(reference, file_id, "report.evidence_download")
    resp = send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=name or "evidence", max_age=0)
    return _guarded(resp)


@bp.get("/reports/<reference>/files/<file_id>/view")
@require_role(*REVIEWERS)
def report_file_view(reference: str, file_id: str) -> Response:
    """An evidence image as the report page shows it: decoded and drawn again as a
    PNG on the server, bounded, without metadata (``display.display_image``)."""
    data, _mime, _name = _evidence(reference, file_id, "report.evidence_view", images_only=True)
    resp = Response(display_image(data), mimetype=DISPLAY_MIME)
    resp.headers["Content-Disposition"] = 'inline; filename="evidence.png"'
    return _guarded(resp)
