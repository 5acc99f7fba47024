"""Demo data for the embedded default: the keys, a handful of Centre staff with
realistic names and units and a credential for each, then the agency's side
(``lookup``) and a letter (``assignments``). Safe to run again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys import root as key_root
from keys import service as key_service
from keys.contract import verification_url
from keys.crypto import MasterKey
from keys.errors import RootFileError
from keys.models import KeyPurpose, KeyState, SigningKey
from registry.credentials import service as credentials
from registry.credentials.models import Credential, CredentialKind, CredentialStatus
from registry.demo.assignments import load_demo_assignments
from registry.demo.data import DEMO_STAFF
from registry.demo.lookup import load_demo_lookup
from registry.signing import service as signing
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
    if not _has_active(session, KeyPurpose.SIGNING):
        key_service.generate_key(session, master, now=now)
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
    return {
        "url": first_url,
        "staff": [s[0] for s in DEMO_STAFF],
        "channels": lookup["channels"],
        "live_codes": lookup["live_codes"],
        "assignment": assignment,
    }


def demo_root(session: Session, master: MasterKey, path: Path, *, actor: str, now: datetime) -> Ed25519PrivateKey:
    """The demo's root, kept in ``path`` (``instance/root.key``) as an operator keeps
    a real one off the server: made there if there is none, taken out of the
    database where an older demo sealed it, or registered from the file when the
    database is new. Raise keys' RootFileError when the database has a root whose
    file is gone."""
    if key_root.sealed_roots(session) and not path.exists():
        private = signing.export_root(session, master, actor=actor, now=now)
        key_root.write_root_file(path, private)
        return private
    active = key_service.find_active(session, KeyPurpose.ROOT)
    if path.exists():
        private = key_root.read_root_file(path)
        if active is None:
            signing.new_root(session, actor=actor, now=now, private=private)
        return private
    if active is not None:
        raise RootFileError(
            "the demo's root key is not in {path}: restore the file, or start the demo on a new database",
            params={"path": str(path)},
        )
    _key, private = signing.new_root(session, actor=actor, now=now)
    key_root.write_root_file(path, private)
    return private


def sign_demo_keyset(session: Session, private: Ed25519PrivateKey, *, issuer: str, actor: str, now: datetime) -> str:
    """Sign the demo's key set unless the one served is current and not close to its
    expiry; returns the root's thumbprint."""
    health = key_root.keyset_health(session, now=now)
    if not health.ok:
        signing.sign_keyset(session, private, actor=actor, issuer=issuer, now=now)
    return key_root.thumbprint(private)
