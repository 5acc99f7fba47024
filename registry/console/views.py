"""What every console page knows: the menu the signed-in admin's role opens, who they
are, whether they may issue, and how the console names each state word."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l

from registry.accounts.auth import ADMINS, ALL_ROLES, ISSUERS, REVIEWERS, current_admin
from registry.accounts.models import AdminRole
from registry.platform.console import admin as bp
from registry.platform.i18n import STATUS_WORDS

NAV: list[tuple[str, Any, tuple[AdminRole, ...]]] = [
    ("admin_reports.dashboard", _l("Dashboard"), ALL_ROLES),
    ("admin.staff_list", _l("Staff"), ALL_ROLES),
    ("admin.assignments_list", _l("Assignments"), ALL_ROLES),
    ("admin_reports.report_queue", _l("Reports"), REVIEWERS),
    ("admin.channels_list", _l("Official channels"), ALL_ROLES),
    ("admin.keys", _l("Keys"), ADMINS),
    ("admin.audit_log", _l("Audit log"), ADMINS),
    ("admin.accounts_list", _l("Accounts"), ADMINS),
]


@bp.app_context_processor
def _admin_globals() -> dict[str, Any]:
    # templates also render outside requests (the CLI's printable card)
    if not has_request_context() or not request.path.startswith("/admin"):
        return {}
    user = current_admin()
    nav = []
    if user is not None:
        for endpoint, label, roles in NAV:
            if user.role in roles and endpoint in current_app.view_functions:
                nav.append((url_for(endpoint), label, request.endpoint == endpoint))
    return {
        "admin_user": user,
        "admin_nav": nav,
        "may_issue": user is not None and user.role in ISSUERS,
        "status_labels": STATUS_WORDS,
    }
