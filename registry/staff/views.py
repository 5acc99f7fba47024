"""The console's staff pages: the list with its search, a person's page, the form to
add or edit one, their photo, and their status (suspend, reinstate, depart)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from registry.accounts.auth import ALL_ROLES, ISSUERS, actor_name, require_role
from registry.alerts.models import AlertKind
from registry.alerts.service import alert_settings
from registry.credentials import service as credentials
from registry.errors import ValidationError
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.console import admin as bp
from registry.platform.console import done
from registry.platform.db import db
from registry.platform.i18n import STATUS_WORDS
from registry.queries import staff_photo as load_photo
from registry.staff import service as staff_service
from registry.staff.models import STAFF_TRANSITIONS, StaffStatus
from registry.staff.photos import MAX_PHOTO_UPLOAD, set_staff_photo

MAX_QUERY = 100  # a search box, not a document
MAX_CODE = 64
FORM_FIELDS = ("code", "name", "title", "unit", "phone", "email")
ALERT_LABELS = {
    AlertKind.LIVE_CODE: _l("A wrong live code is tried for their staff code (at most one mail an hour)"),
    AlertKind.REPORT: _l("A report names their phone, email or name"),
    AlertKind.DIGEST: _l("Daily: the agencies that checked their card"),
}
ACTION_LABELS = {
    StaffStatus.ACTIVE: _l("Reinstate"),
    StaffStatus.SUSPENDED: _l("Suspend"),
    StaffStatus.DEPARTED: _l("Record departure"),
}


@bp.get("/staff")
@require_role(*ALL_ROLES)
def staff_list() -> str:
    q = request.args.get("q", "")[:MAX_QUERY]
    status = forms.state_filter(StaffStatus)
    page = forms.page()
    people, total = staff_service.search_staff(db(), q, status=status, limit=page.size, offset=page.offset)
    return render_template(
        "admin/staff_list.html",
        people=people,
        q=q,
        status=status.value if status else "",
        statuses=list(StaffStatus),
        **page.shown(total),
    )


def _form_page(person: Any, fields: dict[str, str], error: ValidationError | None) -> tuple[str, int] | str:
    body = render_template("admin/staff_form.html", staff=person, fields=fields, error=error)
    return (body, 400) if error else body


@bp.route("/staff/new", methods=["GET", "POST"])
@require_role(*ISSUERS)
def staff_new() -> Response | tuple[str, int] | str:
    fields = dict.fromkeys(FORM_FIELDS, "")
    if request.method == "POST":
        try:
            fields = forms.fields(*FORM_FIELDS)
            data = staff_service.validate_staff(**fields)
        except ValidationError as exc:
            return _form_page(None, fields, exc)
        person = staff_service.add_staff(db(), data, actor=actor_name(), now=now())
        db().commit()
        flash(_("Staff member %(code)s added.", code=person.code))
        return redirect(url_for("admin.staff_detail", code=person.code))
    return _form_page(None, fields, None)


@bp.get("/staff/<code>")
@require_role(*ALL_ROLES)
def staff_detail(code: str) -> str:
    person = staff_service.get_staff(db(), code[:MAX_CODE])
    actions = [(to.value, ACTION_LABELS[to]) for to in StaffStatus if to in STAFF_TRANSITIONS[person.status]]
    return render_template(
        "admin/staff_detail.html",
        staff=person,
        creds=credentials.list_credentials(db(), staff_code=person.code),
        max_days=credentials.MAX_DAYS,
        default_days=credentials.DEFAULT_DAYS,
        transitions=actions,
        alert_settings={k.value: on for k, on in alert_settings(db(), person.code).items()},
        alert_labels=[(k.value, label) for k, label in ALERT_LABELS.items()],
    )


@bp.route("/staff/<code>/edit", methods=["GET", "POST"])
@require_role(*ISSUERS)
def staff_edit(code: str) -> Response | tuple[str, int] | str:
    person = staff_service.get_staff(db(), code[:MAX_CODE])
    fields = {name: getattr(person, name) or "" for name in FORM_FIELDS}
    if request.method == "POST":
        try:
            fields = {**forms.fields(*FORM_FIELDS), "code": person.code}
            data = staff_service.validate_staff(**fields)
        except ValidationError as exc:
            return _form_page(person, fields, exc)
        staff_service.update_staff(db(), person, data, actor=actor_name(), now=now())
        db().commit()
        flash(_("Saved."))
        return redirect(url_for("admin.staff_detail", code=person.code))
    return _form_page(person, fields, None)


@bp.get("/staff/<code>/photo")
@require_role(*ALL_ROLES)
def staff_photo(code: str) -> Response:
    found = load_photo(db(), code[:MAX_CODE], include_departed=True)  # the console keeps every record
    if found is None:
        abort(404)
    return Response(found[0], mimetype=found[1])


@bp.post("/staff/<code>/photo")
@require_role(*ISSUERS)
def staff_photo_upload(code: str) -> Response:
    person = staff_service.get_staff(db(), code[:MAX_CODE])
    upload = request.files.get("photo")
    data = upload.stream.read(MAX_PHOTO_UPLOAD + 1) if upload is not None else b""
    set_staff_photo(db(), person, data, actor=actor_name(), now=now())
    return done(_("Photo saved."), "admin.staff_detail", code=person.code)


@bp.post("/staff/<code>/status")
@require_role(*ISSUERS)
def staff_status(code: str) -> Response:
    to, reason = forms.confirmed_change(StaffStatus)
    person = staff_service.change_status(db(), code[:MAX_CODE], to, actor=actor_name(), now=now(), reason=reason)
    return done(
        _("%(code)s is now %(status)s.", code=person.code, status=STATUS_WORDS[person.status.value]),
        "admin.staff_detail",
        code=person.code,
    )
