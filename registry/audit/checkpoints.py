"""Audit checkpoints, as Certificate Transparency keeps its signed tree heads: a
signed ``{seq, hash, at}`` of the log, kept outside the database (the webhook, a
mailbox, paper). The entries' MACs catch an edit; only a checkpoint catches a deleted
tail with the head rewound, since what is left still verifies.

A checkpoint is a JSON object ``{seq, hash, at, kid, signature}``. ``signature`` is a
compact JWS (EdDSA, ``typ: audit-checkpoint+jwt``) by the active signing key, whose
payload holds ``iss``, ``seq``, ``hash`` and ``at``: anyone holding the registry's JWKS
(``/.well-known/jwks.json``) can check it without the master key. ``hash`` is the
entry's plain chain hash (not its MAC), so checkpoints survive ``keys reseal``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from keys import jose
from keys import service as keys
from keys.contract import AUDIT_CHECKPOINT_TYP
from keys.errors import BadSignatureError, MalformedTokenError, NoActiveKeyError
from keys.models import KeyPurpose, KeyState
from registry.audit.chain import AuditContext, context, intact_chain, verify_chain
from registry.audit.models import AuditEntry
from registry.errors import ConflictError
from registry.outbox.models import OutboxMessage

log = logging.getLogger("chinhdanh.audit")

EVENT_CHECKPOINT = "audit.checkpoint"
HASH_RE = re.compile(r"^[0-9a-f]{64}$")


def sign(session: Session, ctx: AuditContext, *, seq: int, digest: str, now: datetime) -> dict[str, Any]:
    """The checkpoint of entry ``seq`` (whose hash is ``digest``), signed now by the
    active signing key. Raise NoActiveKeyError without one."""
    at = now.isoformat(timespec="seconds")
    claims = {"iss": ctx.issuer, "seq": seq, "hash": digest, "at": at}
    token, key = keys.sign_with_active(session, ctx.master, typ=AUDIT_CHECKPOINT_TYP, claims=claims)
    return {"seq": seq, "hash": digest, "at": at, "kid": key.kid, "signature": token}


def current(session: Session, *, now: datetime) -> dict[str, Any]:
    """A checkpoint of the whole log as it stands; refuse (ConflictError) to sign a
    log that does not verify, or an empty one."""
    ctx = context(session)
    report = intact_chain(session, ctx, refusing="no checkpoint was signed")
    if report.entries == 0:
        raise ConflictError("the audit log is empty: nothing to checkpoint", code="audit_log_empty")
    return sign(session, ctx, seq=report.entries, digest=report.last_hash, now=now)


def enqueue(session: Session, ctx: AuditContext, seq: int, digest: str, now: datetime) -> dict[str, Any] | None:
    """Put the checkpoint of entry ``seq`` in the outbox for the webhook (once per
    entry and hash). Without an active signing key, log it and send nothing."""
    key = f"{EVENT_CHECKPOINT}:{seq}:{digest[:16]}"
    if session.scalar(select(exists().where(OutboxMessage.idempotency_key == key))):
        return None
    try:
        doc = sign(session, ctx, seq=seq, digest=digest, now=now)
    except NoActiveKeyError:
        log.warning("audit checkpoint %d not sent: no active signing key", seq)
        return None
    payload = {"event": EVENT_CHECKPOINT, **doc}
    session.add(OutboxMessage(event=EVENT_CHECKPOINT, idempotency_key=key, payload=payload, next_attempt_at=now))
    session.flush()
    return doc


@dataclass(frozen=True)
class CheckpointReport:
    ok: bool
    seq: int | None
    entries: int
    reason: str | None = None
    broken_seq: int | None = None


def _fields(doc: Any) -> tuple[jose.ParsedToken, int, str]:
    """The signed token, seq and hash of a checkpoint document; raise ValueError."""
    if not isinstance(doc, dict) or not isinstance(doc.get("signature"), str):
        raise ValueError("not a checkpoint: a JSON object with a signature is expected")
    try:
        parsed = jose.parse_token(doc["signature"], typs=frozenset({AUDIT_CHECKPOINT_TYP}))
    except MalformedTokenError as exc:
        raise ValueError(f"the checkpoint's signature is malformed: {exc}") from exc
    seq, digest = parsed.claims.get("seq"), parsed.claims.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or not isinstance(digest, str):
        raise ValueError("the checkpoint names no entry")
    if not HASH_RE.match(digest):
        raise ValueError("the checkpoint's hash is not a SHA-256 hex digest")
    if doc.get("seq", seq) != seq or doc.get("hash", digest) != digest:
        raise ValueError("the checkpoint's fields differ from what its signature covers")
    return parsed, seq, digest


def _check_signature(session: Session, parsed: jose.ParsedToken) -> None:
    key = keys.find_key(session, parsed.kid)
    if key is None or key.purpose is not KeyPurpose.SIGNING:
        raise ValueError(f"the checkpoint is signed by a key this registry does not know ({parsed.kid})")
    if key.state is KeyState.REVOKED:
        raise ValueError(f"the checkpoint is signed by a revoked key ({parsed.kid})")
    try:
        jose.verify_signature(parsed, keys.public_key(key.kid, key.public_jwk))
    except BadSignatureError as exc:
        raise ValueError("the checkpoint's signature does not verify") from exc


def verify(session: Session, doc: Any) -> CheckpointReport:
    """Does the log verify and still extend the checkpoint ``doc``? Its signature
    must verify under a known, unrevoked signing key; the whole chain must verify; and
    the entry it names must still be there with the same hash."""
    try:
        parsed, seq, digest = _fields(doc)
        _check_signature(session, parsed)
    except ValueError as exc:
        return CheckpointReport(False, None, 0, str(exc))
    chain = verify_chain(session)
    if not chain.ok:
        return CheckpointReport(False, seq, chain.entries, chain.reason, chain.broken_seq)
    entry = session.get(AuditEntry, seq)
    if entry is None:
        ends = chain.entries
        reason = f"the log no longer extends the checkpoint: it ends at entry {ends}, the checkpoint names entry {seq}"
        return CheckpointReport(False, seq, chain.entries, reason, ends + 1)
    if entry.hash != digest:
        reason = f"the log no longer extends the checkpoint: entry {seq} differs from it (the log was rewritten)"
        return CheckpointReport(False, seq, chain.entries, reason, seq)
    return CheckpointReport(True, seq, chain.entries)
