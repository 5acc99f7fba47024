"""Demo data for the embedded default: the keys, a handful of Centre staff with
realistic names and units and a credential for each, then the agency's side
(``lookup``) and a letter (``assignments``). Safe to run again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys import service as key_service
from keys.contract import verification_url
from keys.crypto import MasterKey
from keys.models import KeyPurpose, KeyState, SigningKey
from registry.credentials import service as credentials
from registry.credentials.models import Credential, CredentialKind, CredentialStatus
from registry.demo.assignments import load_demo_assignments
from registry.demo.data import DEMO_STAFF
from registry.demo.lookup import load_demo_lookup
from registry.staff.service import add_staff, find_staff, validate_staff


def _has_active(session: Session, purpose: KeyPurpose) -> bool:
    return (
        session.scalars(
            select(SigningKey.id).where(SigningKey.purpose == purpose, SigningKey.state == KeyState.ACTIVE)
        ).first()
        is not None
    )


def load_demo(session: Session, master: MasterKey, *, base_url: str, now: datetime, actor: str) -> dict[str, Any]:
    """Create whatever of the demo is missing: keys, staff and their credentials,
    official channels, live codes, one assignment. Returns the first card's URL and
    what was made."""
    for purpose in (KeyPurpose.ROOT, KeyPurpose.SIGNING):
        if not _has_active(session, purpose):
            key_service.generate_key(session, master, now=now, purpose=purpose)
    first_url = ""
    for code, name, title, unit, phone, email in DEMO_STAFF:
        staff = find_staff(session, code)
        if staff is None:
            staff = add_staff(
                session,
                validate_staff(code=code, name=name, title=title, unit=unit, phone=phone, email=email),
                actor=actor,
                now=now,
            )
        current = session.scalars(
            select(Credential).where(
                Credential.staff_id == staff.id,
                Credential.kind == CredentialKind.STAFF,
                Credential.status == CredentialStatus.VALID,
                Credential.expires_at > now,
            )
        ).first()
        if current is None:
            current = credentials.issue_credential(
                session, master, staff_code=code, base_url=base_url, now=now, actor=actor
            )
        if not first_url:
            first_url = verification_url(base_url, current.token)
    session.flush()
    lookup = load_demo_lookup(session, master, now=now, actor=actor)
    assignment = load_demo_assignments(session, master, base_url=base_url, now=now, actor=actor)
    root = key_service.active_key(session, KeyPurpose.ROOT)
    return {
        "url": first_url,
        "root_thumbprint": root.kid,
        "staff": [s[0] for s in DEMO_STAFF],
        "channels": lookup["channels"],
        "live_codes": lookup["live_codes"],
        "assignment": assignment,
    }
