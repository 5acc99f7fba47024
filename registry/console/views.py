"""What every console page knows: the menu the signed-in admin's role opens, who they
are, whether they may issue, and how the console names each state word."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l

from registry.accounts import signin
from registry.accounts.auth import ADMINS, ALL_ROLES, ISSUERS, current_admin
from registry.accounts.models import AdminRole
from registry.platform.clock import now
from registry.platform.console import admin as bp
from registry.platform.db import db
from registry.platform.i18n import STATUS_WORDS

MenuEntry = tuple[str, Any, tuple[AdminRole, ...]]
# The registry's own pages in menu order. The public side adds its pages (the dashboard
# first, the reports) with ``add_to_menu``: the registry never names them.
NAV: list[MenuEntry] = [
    ("admin.staff_list", _l("Staff"), ALL_ROLES),
    ("admin.assignments_list", _l("Assignments"), ALL_ROLES),
    ("admin.channels_list", _l("Official channels"), ALL_ROLES),
    ("admin.keys", _l("Keys"), ADMINS),
    ("admin.audit_log", _l("Audit log"), ADMINS),
    ("admin.accounts_list", _l("Accounts"), ADMINS),
]


def add_to_menu(endpoint: str, label: Any, roles: tuple[AdminRole, ...], *, after: str | None = None) -> None:
    """Put another part's console page in the menu: first, or after the entry of
    ``after``. Adding it again changes nothing."""
    if any(entry[0] == endpoint for entry in NAV):
        return
    at = next((i + 1 for i, entry in enumerate(NAV) if entry[0] == after), 0) if after else 0
    NAV.insert(at, (endpoint, label, roles))


def home() -> str:
    """The console's first page: the first entry of its menu."""
    return url_for(NAV[0][0])


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
    locked = []
    if user is not None and user.role is AdminRole.ADMIN:
        locked = signin.locked_accounts(db(), now(), besides=user.id)
    return {
        "admin_user": user,
        "locked_accounts": locked,
        "admin_nav": nav,
        "may_issue": user is not None and user.role in ISSUERS,
        "status_labels": STATUS_WORDS,
    }
