"""Key changes, audited: the one place that turns ``keys.service``'s lifecycle and
``keys.root``'s offline root into entries of the audit log, for the console and the
command line alike. No root private key is ever stored: the command line holds it
in memory for one command, read from or written to the operator's file."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keys import root
from keys import service as key_service
from keys.crypto import MasterKey
from keys.models import KeyPurpose, SignedKeySet, SigningKey
from registry.audit import service as audit
from registry.credentials.models import Credential

MAX_REASON = 500
DEFAULT_REASON = "compromised"


def generate(session: Session, master: MasterKey, *, actor: str, now: datetime) -> SigningKey:
    """The first active signing key; raise keys' ActiveKeyExistsError."""
    key = key_service.generate_key(session, master, now=now)
    audit.append(session, actor=actor, action="key.generate", target=key.kid, now=now)
    return key


def rotate(session: Session, master: MasterKey, *, actor: str, now: datetime) -> tuple[SigningKey, SigningKey | None]:
    """A new active signing key; the previous one is retired and keeps verifying.
    Returns (new, retired-or-None)."""
    new, old = key_service.rotate_key(session, master, now=now)
    details = {"retired": old.kid if old else None}
    audit.append(session, actor=actor, action="key.rotate", target=new.kid, details=details, now=now)
    return new, old


def is_root(session: Session, kid: str) -> bool:
    """Whether ``kid`` names a root key (any state): the console acts on none."""
    key = key_service.find_key(session, kid.strip())
    return key is not None and key.purpose is KeyPurpose.ROOT


def new_root(
    session: Session,
    *,
    actor: str,
    now: datetime,
    rotate: bool = False,
    private: Ed25519PrivateKey | None = None,
) -> tuple[SigningKey, Ed25519PrivateKey]:
    """A new root whose private key is returned for the caller to write to a file,
    never stored (``private``: one from an existing file); ``rotate`` retires the
    current one. Raise keys' ActiveKeyExistsError."""
    key, private = root.new_root(session, now=now, rotate=rotate, private=private)
    audit.append(session, actor=actor, action="key.root_generate", target=key.kid, now=now)
    return key, private


def sign_keyset(
    session: Session,
    private: Ed25519PrivateKey,
    *,
    actor: str,
    issuer: str,
    now: datetime,
    days: int = root.DEFAULT_KEYSET_DAYS,
) -> SignedKeySet:
    """Sign the current key set with the root file's key and store it to be served."""
    document = root.sign_keyset(session, private, issuer=issuer, now=now, days=days)
    details = {"version": document.version, "expires_at": document.expires_at.isoformat()}
    audit.append(session, actor=actor, action="keyset.sign", target=document.root_kid, details=details, now=now)
    return document


def export_root(session: Session, master: MasterKey, *, actor: str, now: datetime) -> Ed25519PrivateKey:
    """Take the root that an older version sealed here out of the database; the
    caller writes it to a file before the commit. Raise keys' RootFileError."""
    private = root.export_root(session, master)
    audit.append(session, actor=actor, action="key.root_export", target=root.thumbprint(private), now=now)
    return private


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
