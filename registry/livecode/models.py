"""Live-code (TOTP) secrets and the live-code failure log.

Everything the live-code check decides from lives here, in the database, so several
app instances behind a load balancer enforce replay refusal and lockouts together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from keys.orm import Base, UTCDateTime


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
