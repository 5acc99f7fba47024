"""Registry tables: staff, credentials (staff cards and assignments share one table
and one status-list index space), status lists, and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keys.db import Base, UTCDateTime, str_enum, utcnow
from keys.models import SigningKey


class StaffStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEPARTED = "departed"  # final: a returning person gets a new record


STAFF_TRANSITIONS: dict[StaffStatus, frozenset[StaffStatus]] = {
    StaffStatus.ACTIVE: frozenset({StaffStatus.SUSPENDED, StaffStatus.DEPARTED}),
    StaffStatus.SUSPENDED: frozenset({StaffStatus.ACTIVE, StaffStatus.DEPARTED}),
    StaffStatus.DEPARTED: frozenset(),
}


class CredentialKind(StrEnum):
    STAFF = "staff"  # typ staff-credential+jwt: the card
    ASSIGNMENT = "assignment"  # typ assignment+jwt: the letter of introduction


class CredentialStatus(StrEnum):
    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"  # final


CREDENTIAL_TRANSITIONS: dict[CredentialStatus, frozenset[CredentialStatus]] = {
    CredentialStatus.VALID: frozenset({CredentialStatus.SUSPENDED, CredentialStatus.REVOKED}),
    CredentialStatus.SUSPENDED: frozenset({CredentialStatus.VALID, CredentialStatus.REVOKED}),
    CredentialStatus.REVOKED: frozenset(),
}


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # upper case
    name: Mapped[str] = mapped_column(String(200))  # NFC
    name_folded: Mapped[str] = mapped_column(String(200), index=True)  # no diacritics, lower
    title: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254), index=True)  # case-folded
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_mime: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[StaffStatus] = mapped_column(str_enum(StaffStatus), default=StaffStatus.ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    credentials: Mapped[list[Credential]] = relationship(back_populates="staff")


class StatusList(Base):
    """One status list: ``size`` 2-bit entries. The ``next_index``-th credential gets
    the entry that ``index_key`` scatters it to (in order when there is no key)."""

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(Integer)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped with every flip: the ETag
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    index_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Credential(Base):
    __tablename__ = "credentials"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_index", name="uq_credentials_status_entry"),
        Index("ix_credentials_staff_kind_status", "staff_id", "kind", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the jti
    kind: Mapped[CredentialKind] = mapped_column(str_enum(CredentialKind))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id"))
    status: Mapped[CredentialStatus] = mapped_column(str_enum(CredentialStatus), default=CredentialStatus.VALID)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    token: Mapped[str] = mapped_column(Text)  # public: it is printed on the card
    issued_by: Mapped[str] = mapped_column(String(64))

    staff: Mapped[Staff] = relationship(back_populates="credentials")
    key: Mapped[SigningKey] = relationship()


class AuditHead(Base):
    """One row: the sequence number and hash of the newest audit entry. Appending
    updates it first, which serialises writers on both databases."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


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
