"""The audit log's tables: the entries, each hashed over the previous one and MACed
under a key derived from the master key, and the one-row head that appending locks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keys.orm import Base, UTCDateTime


class AuditHead(Base):
    """One row: the sequence number and hash of the newest audit entry. Appending
    updates it first, which serialises writers on both databases."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    # where the keyed chain starts: the first entry MACed when written, and the hash of
    # the entry before it (written before the keys; ``audit rechain`` MACed those)
    keyed_since: Mapped[int | None] = mapped_column(Integer)
    legacy_head: Mapped[str | None] = mapped_column(String(64))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_action", "action"),
        Index("ix_audit_log_at", "at"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of seq and hash under the audit key (registry.audit.chain); empty
    # only for entries written before the keyed chain, until `audit rechain`
    mac: Mapped[str | None] = mapped_column(String(64))
