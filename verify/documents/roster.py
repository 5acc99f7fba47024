"""The public roster: a signed document listing every staff member as the printed
card and the lookup show them (code, name, title, unit, status, and an active
person's own phone and email), and the Centre's official channels to call back on,
so the offline verifier client can show who a credential belongs to, and whom to
call back (``verify.core.callback``), without asking the server. Also the root key's
public JWK, which the client needs to check the root-signed key set against the
thumbprint the Board publishes.

The roster is a compact JWS with ``typ: roster+jwt`` signed by the active signing
key. Its ``iat`` is the start of the current re-signing period, so every request
(and every instance) within a period signs the same bytes: Ed25519 signatures are
deterministic, and the ETag is simply a hash of the token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys import jose
from keys import service as key_service
from keys.contract import ROSTER_PATH, ROSTER_TYP
from keys.crypto import MasterKey
from keys.models import KeyPurpose
from registry.channels.service import ChannelRecord
from registry.queries import official_contacts
from registry.staff.models import Staff, StaffStatus

# A verifier keeps a roster for up to this long; re-signed every half of it, so a
# copy fetched at any moment stays good for at least a day.
ROSTER_VALIDITY = timedelta(days=2)
ROSTER_RESIGN_EVERY = ROSTER_VALIDITY / 2
ROSTER_CACHE_SECONDS = 300  # how long a client or proxy may reuse an answer unasked


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One person as the public roster shows them. A suspended or departed person
    stays listed, without their phone and email: impostors reuse the names of former
    staff too, and no answer may offer a number that is no longer the Centre's."""

    code: str
    name: str
    title: str
    unit: str
    status: StaffStatus
    phone: str | None
    email: str | None

    def as_claim(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "title": self.title,
            "unit": self.unit,
            "status": self.status.value,
        }
        if self.phone:
            entry["phone"] = self.phone
        if self.email:
            entry["email"] = self.email
        return entry


def roster_entries(session: Session) -> list[RosterEntry]:
    """Every staff member, ordered by code, with their own contacts only while
    active (read-only)."""
    rows = session.execute(
        select(Staff.code, Staff.name, Staff.title, Staff.unit, Staff.status, Staff.phone, Staff.email).order_by(
            Staff.code
        )
    )
    return [
        RosterEntry(
            code=row.code,
            name=row.name,
            title=row.title,
            unit=row.unit,
            status=row.status,
            phone=row.phone if row.status is StaffStatus.ACTIVE else None,
            email=row.email if row.status is StaffStatus.ACTIVE else None,
        )
        for row in rows
    ]


def channel_claim(channel: ChannelRecord) -> dict[str, str]:
    return {"kind": channel.kind.value, "value": channel.value, "label": channel.label}


def period_start(now: datetime) -> datetime:
    """The start of the re-signing period that contains ``now``."""
    step = int(ROSTER_RESIGN_EVERY.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)


def roster_claims(session: Session, *, issuer: str, now: datetime) -> dict[str, Any]:
    issued = period_start(now)
    return {
        "iss": issuer,
        "sub": issuer + ROSTER_PATH,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ROSTER_VALIDITY).timestamp()),
        "staff": [entry.as_claim() for entry in roster_entries(session)],
        # added after the first clients shipped: they ignore a claim they do not know
        "official_contacts": [channel_claim(c) for c in official_contacts(session)],
    }


def roster_token(session: Session, master: MasterKey, *, issuer: str, now: datetime) -> str:
    """The signed roster. Raise keys' NoActiveKeyError without an active signing key.

    Signed directly rather than through ``sign_with_active``: the roster vouches for
    no credential, so it must not stretch the signing key's ``last_expiry``."""
    key = key_service.active_key(session)
    header = {"alg": jose.ALG, "typ": ROSTER_TYP, "kid": key.kid}
    return jose.sign(header, roster_claims(session, issuer=issuer, now=now), key_service.private_key(key, master))


def etag_for(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()[:32]


def root_public_jwk(session: Session) -> dict[str, str]:
    """The active root key's public JWK (with ``kid``, its RFC 7638 thumbprint).
    Serving it unsigned is safe: a verifier accepts it only if its thumbprint is the
    one it pins. Raise keys' NoActiveKeyError without a root key."""
    root = key_service.active_key(session, KeyPurpose.ROOT)
    return {**{k: str(v) for k, v in root.public_jwk.items()}, "kid": root.kid, "use": "sig", "alg": jose.ALG}
