"""Key changes, audited: the one place that turns ``keys.service``'s lifecycle into
entries of the audit log, for the console and the command line alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys import service as key_service
from keys.crypto import MasterKey
from keys.models import KeyPurpose, SigningKey
from registry.audit import service as audit
from registry.credentials.models import Credential

MAX_REASON = 500
DEFAULT_REASON = "compromised"


def generate(
    session: Session, master: MasterKey, *, actor: str, now: datetime, purpose: KeyPurpose = KeyPurpose.SIGNING
) -> SigningKey:
    """The first active key of ``purpose``; raise keys' ActiveKeyExistsError."""
    key = key_service.generate_key(session, master, now=now, purpose=purpose)
    action = "key.root_generate" if purpose is KeyPurpose.ROOT else "key.generate"
    audit.append(session, actor=actor, action=action, target=key.kid, now=now)
    return key


def rotate(
    session: Session, master: MasterKey, *, actor: str, now: datetime, purpose: KeyPurpose = KeyPurpose.SIGNING
) -> tuple[SigningKey, SigningKey | None]:
    """A new active key; the previous one is retired and keeps verifying. Returns
    (new, retired-or-None)."""
    new, old = key_service.rotate_key(session, master, now=now, purpose=purpose)
    if purpose is KeyPurpose.ROOT:
        audit.append(session, actor=actor, action="key.root_generate", target=new.kid, now=now)
    else:
        details = {"retired": old.kid if old else None}
        audit.append(session, actor=actor, action="key.rotate", target=new.kid, details=details, now=now)
    return new, old


def revoke(session: Session, kid: str, *, actor: str, now: datetime, reason: str | None = None) -> SigningKey:
    """Revoke key ``kid``: everything it signed answers ``key_revoked``. Raise keys'
    KeyNotFoundError or KeyStateError."""
    why = (reason or DEFAULT_REASON)[:MAX_REASON]
    key = key_service.revoke_key(session, kid.strip(), now=now, reason=why)
    audit.append(session, actor=actor, action="key.revoke", target=key.kid, details={"reason": why}, now=now)
    return key


def credentials_per_key(session: Session) -> dict[int, int]:
    """How many credentials each key (by row id) has signed."""
    rows = session.execute(select(Credential.key_id, func.count()).group_by(Credential.key_id)).all()
    return dict(rows)
