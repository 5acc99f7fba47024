"""``keys reseal``: move everything sealed under the master key to a new one, all or
nothing. In one transaction: every stored private key, every admin's TOTP secret,
every live-code secret, and every audit entry's MAC (its key is derived from the
master key); the audit log's head is locked first, so no entry is written under the
old key meanwhile. Any failure (a blob the old key does not open, a broken audit
chain, the database) raises, and the caller's rollback leaves everything under the
old key. The audit chain's hashes do not change, so checkpoints stay valid."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from keys import service as keys
from keys.crypto import MasterKey
from registry.accounts import service as accounts
from registry.audit import chain
from registry.errors import ValidationError
from registry.livecode import service as livecode

Resealer = Callable[[Session, MasterKey, MasterKey], int]
# every sealed column, by the room that owns it (and knows its associated data)
RESEALERS: tuple[tuple[str, Resealer], ...] = (
    ("signing_keys", keys.reseal_keys),
    ("admin_totp_secrets", accounts.reseal_totp),
    ("live_code_secrets", livecode.reseal_secrets),
)


@dataclass(frozen=True)
class ResealResult:
    counts: dict[str, int]


def reseal(session: Session, old: MasterKey, new: MasterKey, *, actor: str, now: datetime) -> ResealResult:
    """Re-encrypt and re-MAC everything under ``new``, in the caller's transaction;
    audited (under the new key) as ``keys.reseal`` with the counts. Raise
    ValidationError if ``new`` is ``old``, MasterKeyError or ConflictError otherwise."""
    if new.derive(b"chinhdanh:reseal:same-key?") == old.derive(b"chinhdanh:reseal:same-key?"):
        raise ValidationError("the new master key is the current one", code="same_master_key")
    current = chain.context(session)
    old_audit, new_audit = current.under(old), current.under(new)
    try:
        counts = {"audit_entries": chain.remac(session, old_audit, new_audit)}  # locks the head first
        for name, resealer in RESEALERS:
            counts[name] = resealer(session, old, new)
        session.info[chain.AUDIT_INFO] = new_audit  # what this transaction writes from now on is under the new key
        chain.append(session, actor=actor, action="keys.reseal", details=counts, now=now)
    except BaseException:
        session.info[chain.AUDIT_INFO] = current
        raise
    return ResealResult(counts)
