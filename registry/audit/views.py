"""The console's audit log: a search by actor, action and days, and a check of the
whole chain on request (admins only)."""

from __future__ import annotations

import json
from typing import Any

from flask import render_template, request

from registry.accounts.auth import ADMINS, require_role
from registry.audit import service as audit
from registry.platform import forms
from registry.platform.console import admin as bp
from registry.platform.db import db

MAX_FILTER = 64


def _details_text(details: dict[str, Any]) -> str:
    """An entry's details as readable JSON (Vietnamese kept); the template escapes it."""
    return json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)


@bp.get("/audit")
@require_role(*ADMINS)
def audit_log() -> str:
    actor = request.args.get("actor", "")[:MAX_FILTER].strip()
    action = request.args.get("action", "")[:MAX_FILTER].strip()
    start, end = forms.day("from"), forms.day("to")
    page = forms.page()
    session = db()
    entries, total = audit.search(
        session, actor=actor, action=action, start=start, end=end, limit=page.size, offset=page.offset
    )
    return render_template(
        "admin/audit.html",
        entries=entries,
        actors=audit.actors(session),
        f={
            "actor": actor,
            "action": action,
            "from": request.args.get("from", "")[:10],
            "to": request.args.get("to", "")[:10],
        },
        **page.shown(total),
        report=audit.verify_chain(session) if request.args.get("verify") == "1" else None,
        details_text=_details_text,
    )
