"""The published warnings. A warning is a snapshot taken when a reviewer publishes a
confirmed report: what the public sees does not change if the report is edited or
reopened later, and it never holds the reporter's contact. Withdrawing keeps the row
(who withdrew it and when, for the audit) but takes it off every public place."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keys.orm import Base, UTCDateTime, utcnow
from verify.reports.models import Report


class PublicWarning(Base):
    __tablename__ = "public_warnings"
    __table_args__ = (Index("ix_public_warnings_withdrawn_published", "withdrawn_at", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    # the impostor's identifiers as the public sees them: [{"kind": "phone", "value": "0912 345 678"}, ...]
    identifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    claimed_name: Mapped[str | None] = mapped_column(String(200))
    claimed_unit: Mapped[str | None] = mapped_column(String(200))
    staff_code: Mapped[str | None] = mapped_column(String(64))  # as claimed, upper-case
    channel: Mapped[str] = mapped_column(String(24))
    asked: Mapped[str] = mapped_column(Text)  # what the impostor asked for
    amount_vnd: Mapped[int | None] = mapped_column(BigInteger)
    period_start: Mapped[date] = mapped_column(Date)  # Viet Nam dates
    period_end: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)  # the reviewer's words
    agency: Mapped[str | None] = mapped_column(String(200))  # only if the reporter agreed
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    report: Mapped[Report] = relationship()
