"""The console's credential pages: issue a staff card, a card's page and its status
(suspend, reinstate, revoke), and the printable card."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from keys.contract import verification_url
from registry.accounts.auth import ALL_ROLES, ISSUERS, actor_name, require_role
from registry.credentials import service as credentials
from registry.credentials.cards import card_context
from registry.credentials.models import CREDENTIAL_TRANSITIONS, CredentialKind, CredentialStatus
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.config import base_url, master_key
from registry.platform.console import admin as bp
from registry.platform.console import done
from registry.platform.db import db
from registry.platform.i18n import STATUS_WORDS

MAX_ID = 64
ACTION_LABELS = {
    CredentialStatus.VALID: _l("Reinstate"),
    CredentialStatus.SUSPENDED: _l("Suspend"),
    CredentialStatus.REVOKED: _l("Revoke"),
}


def status_actions(status: CredentialStatus) -> list[tuple[str, Any]]:
    """The buttons a card or a letter in ``status`` offers, in lifecycle order."""
    return [(to.value, ACTION_LABELS[to]) for to in CredentialStatus if to in CREDENTIAL_TRANSITIONS[status]]


@bp.post("/staff/<code>/credentials")
@require_role(*ISSUERS)
def credential_issue(code: str) -> Response:
    days = forms.days(credentials.DEFAULT_DAYS)
    forms.confirmed()
    cred = credentials.issue_credential(
        db(), master_key(), staff_code=code[:MAX_ID], base_url=base_url(), now=now(), actor=actor_name(), days=days
    )
    return done(
        _("Credential issued. Print the card and hand it over."), "admin.credential_detail", credential_id=cred.id
    )


@bp.get("/credentials/<credential_id>")
@require_role(*ALL_ROLES)
def credential_detail(credential_id: str) -> str:
    cred = credentials.get_credential(db(), credential_id[:MAX_ID])
    url = verification_url(base_url(), cred.token)
    return render_template("admin/credential_detail.html", cred=cred, url=url, actions=status_actions(cred.status))


@bp.post("/credentials/<credential_id>/status")
@require_role(*ISSUERS)
def credential_status(credential_id: str) -> Response:
    to, reason = forms.confirmed_change(CredentialStatus)
    kind = CredentialKind.STAFF  # a letter's status is the assignments' page's
    cred = credentials.change_status(
        db(), credential_id[:MAX_ID], to, actor=actor_name(), now=now(), reason=reason, kind=kind
    )
    return done(
        _("The credential is now %(status)s.", status=STATUS_WORDS[cred.status.value]),
        "admin.credential_detail",
        credential_id=cred.id,
    )


@bp.get("/credentials/<credential_id>/card")
@require_role(*ISSUERS)
def credential_card(credential_id: str) -> str:
    cred = credentials.get_credential(db(), credential_id[:MAX_ID])
    if cred.kind is not CredentialKind.STAFF:
        abort(404)
    ctx = card_context(db(), cred, photo_src=url_for("admin.staff_photo", code=cred.staff.code))
    return render_template("registry/card.html", standalone=False, **ctx)
