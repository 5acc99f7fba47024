"""The audit log's chain. Every entry carries two values:

- ``hash``: SHA-256 over its content and the previous entry's ``hash`` (the public
  chain: editing, deleting or reordering a row breaks it there, and a checkpoint
  ``{seq, hash, at}`` commits to every entry up to ``seq``);
- ``mac``: HMAC-SHA256 of ``seq`` and ``hash`` under a key derived from the master key
  (HKDF, label ``AUDIT_MAC_LABEL``), which the database never holds. Whoever can
  write the database but lacks the master key can recompute the plain chain after an
  edit, but not the MACs: ``verify_chain`` names the first entry whose MAC fails.

A deleted tail with the head rewound leaves a shorter chain that verifies; only a
checkpoint kept outside the database shows it (``checkpoints``).

The MAC key reaches the services through the session (``configure`` puts an
``AuditContext`` in the app's session factory's ``info``), so no service signature
changes. A log written before the keys (``mac`` empty) is re-chained once by
``rechain``: it checks the plain chain, MACs those entries and records where the
keyed chain starts and the old head's hash. ``remac`` moves every MAC to a new master
key (``keys reseal``); the hashes, hence the checkpoints, do not change.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from keys.crypto import MasterKey
from registry.audit.models import AuditEntry, AuditHead
from registry.errors import ConflictError

GENESIS_HASH = "0" * 64
HEAD_ID = 1
MAX_FIELD = 200
AUDIT_MAC_LABEL = b"chinhdanh:audit-log:hmac-sha256:v1"  # HKDF info; never reused for anything else
AUDIT_INFO = "chinhdanh.audit"  # the key of the AuditContext in Session.info
NO_MAC = "entry has no MAC: it predates the keyed chain (run `flask --app app audit rechain`)"


Enqueue = Callable[[Session, "AuditContext", int, str, datetime], object]


@dataclass(frozen=True)
class AuditContext:
    """What appending and verifying need beyond the session: the MAC key (derived
    from the master key when the app starts, held in memory only), the master key
    itself to sign checkpoints, how often a checkpoint goes to the outbox (0: never)
    through ``enqueue`` (``checkpoints.enqueue``, given by the app), and the issuer
    named in checkpoints."""

    master: MasterKey
    checkpoint_every: int = 0
    issuer: str = ""
    enqueue: Enqueue | None = None
    mac_key: bytes = field(default=b"", repr=False)

    @classmethod
    def of(
        cls, master: MasterKey, *, checkpoint_every: int = 0, issuer: str = "", enqueue: Enqueue | None = None
    ) -> AuditContext:
        return cls(master, checkpoint_every, issuer, enqueue, master.derive(AUDIT_MAC_LABEL))

    def under(self, master: MasterKey) -> AuditContext:
        """The same context under another master key (``keys reseal``)."""
        return replace(self, master=master, mac_key=master.derive(AUDIT_MAC_LABEL))


def configure(maker: sessionmaker[Session], context: AuditContext) -> None:
    """Every session ``maker`` opens carries ``context`` for the audit log."""
    maker.configure(info={AUDIT_INFO: context})


def context(session: Session) -> AuditContext:
    found = session.info.get(AUDIT_INFO)
    if not isinstance(found, AuditContext):
        raise RuntimeError("this session has no audit context: open it from the app's session factory")
    return found


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, target: str, details: dict[str, Any], prev_hash: str
) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, target, details, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entry_mac(key: bytes, seq: int, digest: str) -> str:
    return hmac.new(key, b"chinhdanh-audit-entry\x00%d\x00%s" % (seq, digest.encode("ascii")), "sha256").hexdigest()


def _lock_head(session: Session, advance: int) -> Any:
    """Update the head row before reading it: on PostgreSQL a row lock, on SQLite the
    write lock, so concurrent writers queue instead of forking the chain. Returns the
    row (seq, last_hash, keyed_since) or None when the log has never been written."""
    updated = session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq + advance))
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        return None
    return session.execute(
        select(AuditHead.seq, AuditHead.last_hash, AuditHead.keyed_since).where(AuditHead.id == HEAD_ID)
    ).one()


def append(
    session: Session, *, actor: str, action: str, target: str = "", details: dict[str, Any] | None = None, now: datetime
) -> AuditEntry:
    """Append one entry, hashed and MACed, in the caller's transaction and return it.
    Every ``checkpoint_every`` entries a signed checkpoint joins the outbox."""
    ctx = context(session)
    head = _lock_head(session, 1)
    if head is None:
        session.add(AuditHead(id=HEAD_ID, seq=1, last_hash=GENESIS_HASH, keyed_since=1, legacy_head=GENESIS_HASH))
        session.flush()
        seq, prev = 1, GENESIS_HASH
    else:
        seq, prev = head.seq, head.last_hash
        if head.keyed_since is None:  # the first keyed entry after the upgrade
            session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(keyed_since=seq, legacy_head=prev))
    clean_details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    actor, action, target = actor[:MAX_FIELD], action[:MAX_FIELD], target[:MAX_FIELD]
    digest = entry_hash(seq, now, actor, action, target, clean_details, prev)
    entry = AuditEntry(
        seq=seq,
        at=now,
        actor=actor,
        action=action,
        target=target,
        details=clean_details,
        prev_hash=prev,
        hash=digest,
        mac=entry_mac(ctx.mac_key, seq, digest),
    )
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(last_hash=digest))
    session.flush()
    if ctx.enqueue is not None and ctx.checkpoint_every > 0 and seq % ctx.checkpoint_every == 0:
        ctx.enqueue(session, ctx, seq, digest, now)
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_seq: int | None = None
    reason: str | None = None
    last_hash: str = GENESIS_HASH


def _walk(session: Session) -> Iterator[AuditEntry]:
    return iter(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000))


def _plain_break(entry: AuditEntry, expected_seq: int, prev: str) -> str | None:
    if entry.seq != expected_seq:
        return f"entry {expected_seq} is missing"
    if entry.prev_hash != prev:
        return "link to the previous entry is broken"
    if entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.target, entry.details, prev) != entry.hash:
        return "content does not match its hash"
    return None


def verify_chain(session: Session, ctx: AuditContext | None = None, *, allow_unkeyed: bool = False) -> ChainReport:
    """Walk the log in order; recompute every hash and every MAC. Returns where it
    first breaks: an edited row (its hash or its MAC), a deleted or reordered one (the
    link or the sequence), a row re-chained without the master key (its MAC), or a
    head that no longer matches the last row. ``allow_unkeyed`` passes entries without
    a MAC (``rechain`` checks the old chain with it)."""
    key = (ctx or context(session)).mac_key
    prev = GENESIS_HASH
    count = 0
    for entry in _walk(session):
        reason = _plain_break(entry, count + 1, prev)
        if reason is None and entry.mac is None and not allow_unkeyed:
            reason = NO_MAC
        if (
            reason is None
            and entry.mac is not None
            and not hmac.compare_digest(entry.mac, entry_mac(key, entry.seq, entry.hash))
        ):
            reason = "MAC does not match: edited or re-chained without the master key"
        if reason is not None:
            return ChainReport(False, count, entry.seq, reason, prev)
        prev = entry.hash
        count += 1
    head = session.get(AuditHead, HEAD_ID)
    if (head is None and count) or (head is not None and (head.seq != count or head.last_hash != prev)):
        seq = count + 1 if head is None or head.seq > count else head.seq
        return ChainReport(False, count, seq, "entries after this point were removed", prev)
    return ChainReport(True, count, last_hash=prev)


def unkeyed_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.mac.is_(None))) or 0)


@dataclass(frozen=True)
class RechainResult:
    macked: int  # entries that had no MAC and have one now
    keyed_since: int  # the first entry MACed when it was written
    legacy_head: str  # the hash of the last entry written before the keys


def rechain(session: Session, *, actor: str, now: datetime) -> RechainResult:
    """Bring a log written before the keyed chain under the MAC key: check the plain
    chain first (refuse with ConflictError if it is broken, or if a MAC already
    present fails), then MAC every entry that has none, record where the keyed chain
    starts and the old head's hash, and append ``audit.rechain`` saying so."""
    ctx = context(session)
    if _lock_head(session, 0) is None:
        return RechainResult(0, 1, GENESIS_HASH)
    report = verify_chain(session, ctx, allow_unkeyed=True)
    if not report.ok:
        raise ConflictError(
            "audit log BROKEN at entry {seq}: {reason}; it was not re-chained",
            code="audit_chain_broken",
            params={"seq": report.broken_seq, "reason": report.reason},
        )
    unkeyed = list(session.scalars(select(AuditEntry).where(AuditEntry.mac.is_(None)).order_by(AuditEntry.seq)))
    head = session.get(AuditHead, HEAD_ID)
    if head is None or not unkeyed:
        return RechainResult(0, (head and head.keyed_since) or 1, (head and head.legacy_head) or GENESIS_HASH)
    for entry in unkeyed:
        entry.mac = entry_mac(ctx.mac_key, entry.seq, entry.hash)
    if head.keyed_since is None:  # nothing appended since the upgrade: the keyed chain starts next
        head.keyed_since, head.legacy_head = head.seq + 1, head.last_hash
    result = RechainResult(len(unkeyed), head.keyed_since, head.legacy_head or GENESIS_HASH)
    session.flush()
    details = {
        "macked_from": unkeyed[0].seq,
        "macked_to": unkeyed[-1].seq,
        "keyed_since": result.keyed_since,
        "legacy_head": result.legacy_head,
    }
    append(session, actor=actor, action="audit.rechain", target=f"1-{unkeyed[-1].seq}", details=details, now=now)
    return result


def intact_chain(session: Session, ctx: AuditContext, *, refusing: str) -> ChainReport:
    """The chain's report when it verifies under ``ctx``; ConflictError naming the
    first broken entry and what was ``refusing`` otherwise."""
    report = verify_chain(session, ctx)
    if not report.ok:
        raise ConflictError(
            "audit log BROKEN at entry {seq}: {reason}; " + refusing,
            code="audit_chain_broken",
            params={"seq": report.broken_seq, "reason": report.reason},
        )
    return report


def remac(session: Session, old: AuditContext, new: AuditContext) -> int:
    """Move every MAC from ``old``'s key to ``new``'s in the caller's transaction (keys
    reseal): the whole chain must verify under the old key first (ConflictError
    otherwise, so that a reseal never blesses an edit). Returns how many entries."""
    _lock_head(session, 0)
    intact_chain(session, old, refusing="nothing was resealed")
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        entry.mac = entry_mac(new.mac_key, entry.seq, entry.hash)
        count += 1
    session.flush()
    return count
