"""Tables of the impersonation reports: the report itself, its evidence files (their
metadata, and their bytes in a table of their own, so that every instance serves them
and a backup holds them), the normalised identifiers it
names (what later lookups match against), the per-year reference counter and the
per-address daily count of evidence bytes."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keys.orm import Base, UTCDateTime, str_enum, utcnow


class ReportStatus(StrEnum):
    NEW = "new"
    REVIEWING = "reviewing"
    CONFIRMED = "confirmed"  # its identifiers now answer reported_impostor
    NOT_IMPERSONATION = "not_impersonation"
    DUPLICATE = "duplicate"


# A decision can be revisited (new evidence, a mistaken click), so the three
# outcomes may go back to reviewing; nothing goes back to "new".
REPORT_TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.NEW: frozenset({ReportStatus.REVIEWING}),
    ReportStatus.REVIEWING: frozenset({ReportStatus.CONFIRMED, ReportStatus.NOT_IMPERSONATION, ReportStatus.DUPLICATE}),
    ReportStatus.CONFIRMED: frozenset({ReportStatus.REVIEWING}),
    ReportStatus.NOT_IMPERSONATION: frozenset({ReportStatus.REVIEWING}),
    ReportStatus.DUPLICATE: frozenset({ReportStatus.REVIEWING}),
}


class ReportChannel(StrEnum):
    """How the impostor made contact."""

    PHONE = "phone"
    EMAIL = "email"
    ZALO = "zalo"
    FACEBOOK = "facebook"
    LETTER = "letter"
    IN_PERSON = "in_person"
    OTHER = "other"


class IdentifierKind(StrEnum):
    PHONE = "phone"  # E.164
    EMAIL = "email"  # case-folded
    ACCOUNT = "account"  # bank account: upper-case letters and digits only
    LINK = "link"  # social link: host/path, see verify.reports.identifiers.normalize_link


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_reports_year_seq"),
        Index("ix_reports_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # BC-2026-000123
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus), default=ReportStatus.NEW)
    channel: Mapped[ReportChannel] = mapped_column(str_enum(ReportChannel))
    claimed_name: Mapped[str | None] = mapped_column(String(200))
    claimed_title: Mapped[str | None] = mapped_column(String(200))
    claimed_unit: Mapped[str | None] = mapped_column(String(200))
    staff_code: Mapped[str | None] = mapped_column(String(64))  # as claimed, not checked against staff
    phone: Mapped[str | None] = mapped_column(String(32))  # as typed
    email: Mapped[str | None] = mapped_column(String(254))  # as typed
    social_link: Mapped[str | None] = mapped_column(String(500))  # as typed
    bank_account: Mapped[str | None] = mapped_column(String(100))  # as typed (bank name allowed)
    request_text: Mapped[str] = mapped_column(Text)  # what was asked; verbatim, markup included
    amount_vnd: Mapped[int | None] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evidence_text: Mapped[str | None] = mapped_column(Text)
    reporter_agency: Mapped[str] = mapped_column(String(200))
    reporter_contact: Mapped[str] = mapped_column(String(200))
    # the reporter agreed that a public warning made of this report may name their agency
    publish_agency: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    language: Mapped[str] = mapped_column(String(8), default="vi")
    source: Mapped[str] = mapped_column(String(8))  # "form" or "api"
    triage_note: Mapped[str | None] = mapped_column(Text)
    duplicate_of: Mapped[str | None] = mapped_column(String(16))
    triaged_by: Mapped[str | None] = mapped_column(String(64))
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    files: Mapped[list[ReportFile]] = relationship(
        back_populates="report", order_by="ReportFile.id", cascade="all, delete-orphan"
    )
    identifiers: Mapped[list[ReportIdentifier]] = relationship(
        back_populates="report", order_by="ReportIdentifier.id", cascade="all, delete-orphan"
    )


class ReportFile(Base):
    """One evidence file's metadata. Its bytes, exactly as uploaded (EXIF included:
    it is evidence), are its ``EvidenceBlob``, served only to admins. ``stored_name``
    is a random name: the file's name in ``instance/evidence/`` before evidence moved
    into the database (migration h14e_0011), kept so that the move can be re-run."""

    __tablename__ = "report_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # random: ids are not guessable
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random, no user input
    original_name: Mapped[str] = mapped_column(String(200))  # shown to admins only, escaped
    mime: Mapped[str] = mapped_column(String(32))  # decided from the content
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="files")
    # never loaded with the file's metadata: only the download reads the bytes
    blob: Mapped[EvidenceBlob | None] = relationship(lazy="raise", cascade="all, delete-orphan", passive_deletes=True)


class EvidenceBlob(Base):
    """The bytes of one evidence file (at most ``evidence.MAX_FILE_BYTES``), apart from
    its metadata so that listing a report's files never reads them."""

    __tablename__ = "evidence_blobs"

    file_id: Mapped[int] = mapped_column(ForeignKey("report_files.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ReportIdentifier(Base):
    """A normalised phone, email, bank account or social link named by a report.
    Written at intake; lookups count only reports whose status is confirmed."""

    __tablename__ = "report_identifiers"
    __table_args__ = (
        UniqueConstraint("report_id", "kind", "value", name="uq_report_identifiers_report_kind_value"),
        Index("ix_report_identifiers_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[IdentifierKind] = mapped_column(str_enum(IdentifierKind))
    value: Mapped[str] = mapped_column(String(300))

    report: Mapped[Report] = relationship(back_populates="identifiers")


class ReportCounter(Base):
    """The last reference number given in a year. Incremented before it is read, in
    the report's own transaction: concurrent reports queue on this row and a rolled
    back report gives its number back, so references have no gaps."""

    __tablename__ = "report_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class EvidenceQuota(Base):
    """Evidence bytes accepted today from one client network (``verify.reports.quota``).
    The key is a keyed hash of the network and the day, never the address itself;
    rows of past days are deleted by the next report with files."""

    __tablename__ = "evidence_quota"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # Viet Nam time
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
