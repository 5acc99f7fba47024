"""The console's key page (admins only): every key with what it signed, the served
key set's health, rotation of the signing key, and revocation of a compromised one.
The root is offline: no route here acts on it (403 whatever the form says), and
after a change here the served key set is stale until ``keys root sign``."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from keys import service as key_service
from keys.errors import N_
from keys.models import KeyPurpose
from keys.root import keyset_health
from registry.accounts.auth import ADMINS, actor_name, require_role
from registry.errors import ForbiddenError, ValidationError
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.config import master_key
from registry.platform.console import admin as bp
from registry.platform.console import done
from registry.platform.db import db
from registry.signing import service as signing

MAX_KID = 64


@bp.get("/keys")
@require_role(*ADMINS)
def keys() -> str:
    session = db()
    return render_template(
        "admin/keys.html",
        keys=key_service.list_keys(session),
        counts=signing.credentials_per_key(session),
        root=KeyPurpose.ROOT,
        keyset=keyset_health(session, now=now()),
    )


@bp.post("/keys/rotate")
@require_role(*ADMINS)
def keys_rotate() -> Response:
    forms.confirmed()
    new, _old = signing.rotate(db(), master_key(), actor=actor_name(), now=now())
    return done(
        _("New signing key %(kid)s is active; the previous one keeps verifying.", kid=new.kid) + " " + _stale_new(),
        "admin.keys",
    )


@bp.post("/keys/<kid>/revoke")
@require_role(*ADMINS)
def keys_revoke(kid: str) -> Response:
    if signing.is_root(db(), kid[:MAX_KID]):
        raise ForbiddenError(N_("The root key is offline: the console cannot act on it."))
    key = key_service.get_key(db(), kid[:MAX_KID])
    if forms.field("confirm_kid", MAX_KID).strip() != key.kid:
        raise ValidationError(N_("Type the key id exactly to confirm the revocation."), field="confirm_kid")
    signing.revoke(db(), key.kid, actor=actor_name(), now=now(), reason=forms.reason())
    return done(
        _("Key %(kid)s is revoked: everything it signed now fails verification.", kid=key.kid) + " " + _stale_revoked(),
        "admin.keys",
    )


def _stale_new() -> str:
    return str(
        _(
            "Offline verifiers answer unknown_key for what the new key signs, and their sync fails, "
            "until the key set is signed again with `flask --app app keys root sign --root FILE`."
        )
    )


def _stale_revoked() -> str:
    return str(
        _(
            "Offline verifiers keep accepting what it signed until the key set is signed again with "
            "`flask --app app keys root sign --root FILE`."
        )
    )
