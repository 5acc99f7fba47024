"""Demo data of the agency's side: the Centre's official channels and live codes for
the demo staff. Safe to run again: what exists is kept, nothing is duplicated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from keys.crypto import MasterKey
from registry.channels import service as channels
from registry.demo.data import DEMO_CHANNELS, DEMO_STAFF
from registry.livecode import service as livecode


def load_demo_lookup(session: Session, master: MasterKey, *, now: datetime, actor: str) -> dict[str, Any]:
    """Add the missing demo channels and enrol a live code for each demo staff member
    that has none (the demo staff must exist: ``service.load_demo`` adds them first).

    Returns ``{"channels": [{kind, value, label}...], "live_codes": [{staff_code,
    otpauth_uri}...]}``: every channel, and the otpauth URI of each live code enrolled
    by this call (the only time a URI is shown; codes enrolled earlier are not listed
    again).
    """
    for kind, value, label in DEMO_CHANNELS:
        if channels.find_channel(session, kind, channels.normalize_value(kind, value)) is None:
            channels.add_channel(session, kind=kind, value=value, label=label, actor=actor, now=now)
    enrolled = []
    for code, *_rest in DEMO_STAFF:
        if not livecode.is_enrolled(session, code):
            enrolment = livecode.enrol(session, master, code, actor=actor, now=now)
            enrolled.append({"staff_code": enrolment.staff_code, "otpauth_uri": enrolment.otpauth_uri})
    return {
        "channels": [
            {"kind": c.kind.value, "value": c.value, "label": c.label} for c in channels.list_channels(session)
        ],
        "live_codes": enrolled,
    }
