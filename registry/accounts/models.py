"""Admin console accounts: role, argon2id password hash, TOTP secret sealed under the
master key, the last TOTP step used (replay refusal), failed-attempt and lockout state
(in the database, so every app instance enforces it), a session generation counter
("sign out everywhere" bumps it) and one-time setup links (only their hash is kept)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keys.orm import Base, UTCDateTime, str_enum, utcnow


class AdminRole(StrEnum):
    ADMIN = "admin"  # everything, keys and accounts included
    ISSUER = "issuer"  # staff and credentials
    REVIEWER = "reviewer"  # reports; the registry read-only


class AccountStatus(StrEnum):
    PENDING = "pending"  # created in the console; waits for its one-time setup link
    ACTIVE = "active"
    DISABLED = "disabled"  # cannot sign in; kept, because the audit log names it


ACCOUNT_TRANSITIONS: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.PENDING: frozenset({AccountStatus.ACTIVE, AccountStatus.DISABLED}),
    AccountStatus.ACTIVE: frozenset({AccountStatus.DISABLED, AccountStatus.PENDING}),
    AccountStatus.DISABLED: frozenset({AccountStatus.ACTIVE, AccountStatus.PENDING}),
}


class AdminUser(Base):
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # lower case, never renamed
    role: Mapped[AdminRole] = mapped_column(str_enum(AdminRole))
    status: Mapped[AccountStatus] = mapped_column(str_enum(AccountStatus), default=AccountStatus.PENDING)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id PHC string
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # AES-GCM, aad names the user
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a step at or before this is refused
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_generation: Mapped[int] = mapped_column(Integer, default=1)  # cookies of older ones are void
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    setup_tokens: Mapped[list[SetupToken]] = relationship(back_populates="user", cascade="all, delete-orphan")


class SetupToken(Base):
    """A one-time link that lets a new (or reset) account set its password and enrol
    its authenticator. The link's secret is never stored, only its SHA-256; the
    authenticator secret it shows is shown once."""

    __tablename__ = "admin_setup_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    # the authenticator secret this link enrols: made and shown on the link's first
    # visit only, sealed under the master key; it becomes the account's at completion
    secret_shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    user: Mapped[AdminUser] = relationship(back_populates="setup_tokens")
