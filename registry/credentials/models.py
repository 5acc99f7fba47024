"""Credentials (staff cards and assignments share one table and one status-list
index space) and the status lists their entries live in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keys.models import SigningKey
from keys.orm import Base, UTCDateTime, str_enum, utcnow
from registry.staff.models import Staff


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

    staff: Mapped[Staff] = relationship()
    key: Mapped[SigningKey] = relationship()
