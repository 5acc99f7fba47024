"""The console's live-code page of a staff member: whether an authenticator is
enrolled, and the enrolment itself, whose QR code is shown once."""

from __future__ import annotations

from flask import render_template

from registry import qr
from registry.accounts.auth import ISSUERS, actor_name, require_role
from registry.accounts.views import qr_markup
from registry.livecode import service as livecode
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.config import master_key
from registry.platform.console import admin as bp
from registry.platform.db import db
from registry.staff.service import get_staff

MAX_CODE = 64


@bp.get("/staff/<code>/live-code", endpoint="livecode")
@require_role(*ISSUERS)
def livecode_page(code: str) -> str:
    person = get_staff(db(), code[:MAX_CODE])
    return render_template(
        "admin/livecode.html", staff=person, enrolled=livecode.is_enrolled(db(), person.code), enrolment=None
    )


@bp.post("/staff/<code>/live-code")
@require_role(*ISSUERS)
def livecode_enrol(code: str) -> str:
    """Enrol (or replace) the staff member's authenticator; the QR is shown once."""
    person = get_staff(db(), code[:MAX_CODE])
    forms.confirmed()
    enrolment = livecode.enrol(db(), master_key(), person.code, actor=actor_name(), now=now())
    db().commit()
    return render_template(
        "admin/livecode.html",
        staff=person,
        enrolled=True,
        enrolment=enrolment,
        qr_svg=qr_markup(qr.svg(enrolment.otpauth_uri)),
    )
