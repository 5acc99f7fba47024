"""The console's side of the public warnings: publish a confirmed report as a
warning (from the report's page), list every warning, withdraw one. Reviewers and
admins only; every change is audited by the service."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from registry.accounts.auth import REVIEWERS, actor_name, require_role
from registry.console.views import add_to_menu
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.console import done, no_store
from registry.platform.db import db
from verify.reports import triage
from verify.reports.models import ReportStatus
from verify.warnings import service
from verify.warnings.words import template_words

bp = Blueprint("admin_warnings", __name__, url_prefix="/admin")
bp.after_request(no_store)
bp.context_processor(template_words)
add_to_menu("admin_warnings.warning_admin_list", _l("Warnings"), REVIEWERS, after="admin_reports.report_queue")
MAX_REFERENCE = 32


@bp.get("/reports/<reference>/warning")
@require_role(*REVIEWERS)
def publish_form(reference: str) -> str:
    report = triage.get_report(db(), reference[:MAX_REFERENCE])
    return render_template(
        "admin/warning_publish.html",
        report=report,
        confirmed=report.status is ReportStatus.CONFIRMED,
        max_text=service.MAX_TEXT,
        max_asked=service.MAX_ASKED,
    )


@bp.post("/reports/<reference>/warning")
@require_role(*REVIEWERS)
def publish(reference: str) -> Response:
    warning = service.publish(
        db(),
        reference[:MAX_REFERENCE],
        text=forms.field("text", service.MAX_TEXT),
        asked=forms.field("asked", service.MAX_ASKED),
        actor=actor_name(),
        now=now(),
    )
    return done(_("Warning %(id)d is published.", id=warning.id), "admin_warnings.warning_admin_list")


@bp.get("/warnings")
@require_role(*REVIEWERS)
def warning_admin_list() -> str:
    session = db()
    shown = forms.page()
    total = service.count_all(session)
    warnings = service.all_warnings(session, limit=shown.size, offset=shown.offset)
    return render_template(
        "admin/warnings.html",
        warnings=warnings,
        max_reason=service.MAX_REASON,
        **shown.shown(total),
    )


@bp.post("/warnings/<int(min=1, max=2147483647):warning_id>/withdraw")
@require_role(*REVIEWERS)
def withdraw(warning_id: int) -> Response:
    forms.confirmed()
    reason = forms.field("reason", service.MAX_REASON)
    warning = service.withdraw(db(), warning_id, reason=reason, actor=actor_name(), now=now())
    return done(_("Warning %(id)d is withdrawn.", id=warning.id), "admin_warnings.warning_admin_list")
