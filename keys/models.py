"""The signing-key table (public JWK in clear, a signing key's private key sealed under
the master key; a root key's never stored) and the signed key-set documents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from keys.orm import Base, UTCDateTime, str_enum, utcnow


class KeyState(StrEnum):
    ACTIVE = "active"  # signs new tokens
    RETIRED = "retired"  # verifies until its last token expires
    REVOKED = "revoked"  # compromised: everything it signed answers key_revoked


class KeyPurpose(StrEnum):
    SIGNING = "signing"  # signs credentials, assignments and status lists
    ROOT = "root"  # signs only the key-set document; the Board publishes its thumbprint


KEY_TRANSITIONS: dict[KeyState, frozenset[KeyState]] = {
    KeyState.ACTIVE: frozenset({KeyState.RETIRED, KeyState.REVOKED}),
    KeyState.RETIRED: frozenset({KeyState.REVOKED}),
    KeyState.REVOKED: frozenset(),
}


class SigningKey(Base):
    __tablename__ = "signing_keys"
    __table_args__ = (Index("ix_signing_keys_purpose_state", "purpose", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[KeyPurpose] = mapped_column(str_enum(KeyPurpose))
    state: Mapped[KeyState] = mapped_column(str_enum(KeyState))
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    # None for a root key: its private key lives offline, in the operator's file
    private_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    # the latest expiry of anything this key signed: a retired key is published until then
    last_expiry: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignedKeySet(Base):
    """A key-set document as ``keys root sign`` signed it, served as it is. ``version``
    grows by one per signature; the newest is the one served."""

    __tablename__ = "signed_keysets"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    root_kid: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)
    # {kid: state} of the signing keys it lists: the served set is stale when these differ
    key_states: Mapped[dict[str, str]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
