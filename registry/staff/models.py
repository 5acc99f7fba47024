"""The staff table: who works for the Centre, as the card shows them, and their
lifecycle (active, suspended, departed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from keys.orm import Base, UTCDateTime, str_enum, utcnow


class StaffStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEPARTED = "departed"  # final: a returning person gets a new record


STAFF_TRANSITIONS: dict[StaffStatus, frozenset[StaffStatus]] = {
    StaffStatus.ACTIVE: frozenset({StaffStatus.SUSPENDED, StaffStatus.DEPARTED}),
    StaffStatus.SUSPENDED: frozenset({StaffStatus.ACTIVE, StaffStatus.DEPARTED}),
    StaffStatus.DEPARTED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class StaffDetails:
    """A person as their record and their card say: code, name, title, unit, and their
    own phone and email (validated before they are written; read back for answers)."""

    code: str
    name: str
    title: str
    unit: str
    phone: str | None
    email: str | None


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
