"""Tables of the agency's side: the Centre's official channels, live-code (TOTP)
secrets and the live-code failure log.

Everything the live-code check decides from lives here, in the database, so several
app instances behind a load balancer enforce replay refusal and lockouts together.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keys.db import Base, UTCDateTime, str_enum, utcnow


class ChannelKind(StrEnum):
    EMAIL = "email"  # case-folded address
    PHONE = "phone"  # E.164
    DOMAIN = "domain"  # lower-case ASCII host name; its subdomains and mailboxes count too
    URL = "url"  # host/path, lower case, no scheme or trailing slash


class OfficialChannel(Base):
    """One official contact of the Centre: a lookup of it answers ``official_channel``."""

    __tablename__ = "official_channels"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_official_channels_kind_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, length=16))
    value: Mapped[str] = mapped_column(String(300))  # the normal form for its kind
    label: Mapped[str] = mapped_column(String(200))  # what it is, shown to officers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class LiveCodeSecret(Base):
    """A staff member's authenticator secret, sealed under the master key with the
    staff code as associated data, and the last time step accepted (replay refusal)."""

    __tablename__ = "live_code_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), unique=True)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # A code is accepted only for a step after this one, so each code works once and an
    # older code seen on the line cannot be replayed after a newer one was used.
    last_used_step: Mapped[int | None] = mapped_column(Integer)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enrolled_by: Mapped[str] = mapped_column(String(64))


class LiveCodeFailure(Base):
    """One wrong code for a staff code. The lock is computed from these rows, so every
    instance sees the same lock; rows older than the window are pruned as new ones come."""

    __tablename__ = "live_code_failures"
    __table_args__ = (Index("ix_live_code_failures_staff_at", "staff_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
