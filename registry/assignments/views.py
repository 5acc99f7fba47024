"""The console's assignment pages (letters of introduction): the list, the form
that issues one to a staff member, an assignment's page and its status."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from keys.contract import LETTER_PAGE, verification_url
from registry.accounts.auth import ALL_ROLES, ISSUERS, actor_name, require_role
from registry.assignments import service as assignments
from registry.credentials.models import CredentialStatus
from registry.credentials.views import status_actions
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.config import base_url, master_key
from registry.platform.console import admin as bp
from registry.platform.console import done
from registry.platform.db import db
from registry.platform.i18n import STATUS_WORDS
from registry.staff.service import get_staff

MAX_ID = 64
MAX_STAFF_FILTER = 32
LIST_ROWS = forms.PAGE_SIZE * 4
MAX_CHANNELS_INPUT = 2000
MAX_DOMAIN_INPUT = 253


@bp.get("/assignments")
@require_role(*ALL_ROLES)
def assignments_list() -> str:
    code = request.args.get("staff", "")[:MAX_STAFF_FILTER].strip()
    rows = assignments.list_assignments(db(), staff_code=code or None)[:LIST_ROWS]
    return render_template("admin/assignments.html", rows=rows, staff=code)


@bp.route("/staff/<code>/assignments", methods=["GET", "POST"])
@require_role(*ISSUERS)
def assignment_issue(code: str) -> Response | str:
    person = get_staff(db(), code[:MAX_ID])
    if request.method == "GET":
        return render_template(
            "admin/assignment_form.html",
            staff=person,
            default_days=assignments.DEFAULT_DAYS,
            max_days=assignments.MAX_DAYS,
        )
    days = forms.days(assignments.DEFAULT_DAYS)
    channels = [c.strip() for c in forms.field("channels", MAX_CHANNELS_INPUT).splitlines() if c.strip()]
    forms.confirmed()
    assignment = assignments.issue_assignment(
        db(),
        master_key(),
        staff_code=person.code,
        agency=forms.field("agency"),
        agency_domain=forms.field("agency_domain", MAX_DOMAIN_INPUT) or None,
        purpose=forms.field("purpose"),
        channels=channels,
        days=days,
        base_url=base_url(),
        now=now(),
        actor=actor_name(),
    )
    issued = _("Assignment issued. Send the letter link to the staff member.")
    return done(issued, "admin.assignment_detail", assignment_id=assignment.credential_id)


@bp.get("/assignments/<assignment_id>")
@require_role(*ALL_ROLES)
def assignment_detail(assignment_id: str) -> str:
    assignment = assignments.get_assignment(db(), assignment_id[:MAX_ID])
    cred = assignment.credential
    return render_template(
        "admin/assignment_detail.html",
        a=assignment,
        cred=cred,
        number=assignments.letter_number(assignment),
        url=verification_url(base_url(), cred.token),
        letter_url=verification_url(base_url(), cred.token, LETTER_PAGE),
        actions=status_actions(cred.status),
    )


@bp.post("/assignments/<assignment_id>/status")
@require_role(*ISSUERS)
def assignment_status(assignment_id: str) -> Response:
    to, reason = forms.confirmed_change(CredentialStatus)
    assignment = assignments.change_status(
        db(), assignment_id[:MAX_ID], to, actor=actor_name(), now=now(), reason=reason
    )
    return done(
        _("The assignment is now %(status)s.", status=STATUS_WORDS[assignment.credential.status.value]),
        "admin.assignment_detail",
        assignment_id=assignment.credential_id,
    )
