"""Server-side console sessions and sign-in failure counters.

A session row is what a console cookie opens: the cookie carries a random 256-bit id,
the row keeps only its SHA-256. The row is void once ``ended_at`` is set, once the
account's ``session_generation`` moves past the row's ``generation`` (a password or
2FA reset, suspension, "sign out everywhere"), or once its idle or absolute timeout
has passed, counted from ``last_seen_at`` and ``created_at``.

A throttle row counts the failed sign-ins of one typed username from one source
address (known username or not, so that the counters tell nothing about which
usernames exist); it is what makes one source wait without locking anyone else out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keys.orm import Base, UTCDateTime

MAX_ADDRESS = 64
MAX_USER_AGENT = 200


class AdminSession(Base):
    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the cookie's id, hex
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    generation: Mapped[int] = mapped_column(Integer)  # the account's session_generation at sign-in
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(MAX_ADDRESS), default="")
    user_agent: Mapped[str] = mapped_column(String(MAX_USER_AGENT), default="")


class SignInThrottle(Base):
    __tablename__ = "signin_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)  # as typed, lower case
    source: Mapped[str] = mapped_column(String(MAX_ADDRESS), primary_key=True)  # the client address
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
