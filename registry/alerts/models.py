"""What the alerts keep: who turned which kind off, the hourly window of live-code
alerts per staff member, and the card checks made by agencies that gave their name
(for the daily digest)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keys.orm import Base, UTCDateTime, str_enum


class AlertKind(StrEnum):
    LIVE_CODE = "live_code"  # a wrong live code tried for their staff code
    REPORT = "report"  # a report names their phone, email or name
    DIGEST = "digest"  # daily: agencies that checked their card


class AlertOptOut(Base):
    """A staff member does not want alerts of this kind."""

    __tablename__ = "alert_optouts"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class LiveCodeAlertWindow(Base):
    """At most one live-code alert an hour per staff member: the hour that started
    with the last alert queued, that alert's outbox message (its count grows while it
    waits), and the wrong codes that came after it was sent (told in the next one)."""

    __tablename__ = "live_code_alert_windows"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)  # wrong codes told in that message
    untold: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes since it was sent
    untold_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CardCheck(Base):
    """A verification of a staff member's credential by an agency that gave its name."""

    __tablename__ = "card_checks"
    __table_args__ = (Index("ix_card_checks_at_staff", "at", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    credential_id: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
