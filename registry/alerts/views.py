"""The console's switch for a staff member's alerts (on their page): which kinds of
alert mail they get. Issuers and admins change it; the service audits it."""

from __future__ import annotations

from flask_babel import gettext as _
from werkzeug.wrappers import Response

from registry.accounts.auth import ISSUERS, actor_name, require_role
from registry.alerts import service
from registry.alerts.models import AlertKind
from registry.platform.clock import now
from registry.platform.console import admin as bp
from registry.platform.console import done
from registry.platform.db import db
from registry.platform.forms import field

MAX_CODE = 64


@bp.post("/staff/<code>/alerts")
@require_role(*ISSUERS)
def staff_alerts(code: str) -> Response:
    session = db()
    at, who = now(), actor_name()
    for kind in AlertKind:
        service.set_alert(session, code[:MAX_CODE], kind, on=field(kind.value, 8) == "on", actor=who, now=at)
    return done(
        _("The alert settings of %(code)s are saved.", code=code[:MAX_CODE].upper()),
        "admin.staff_detail",
        code=code[:MAX_CODE].upper(),
    )
