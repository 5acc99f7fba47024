"""Issuing and checking receipts. A receipt says what this service answered about a
token, when, and for which agency: the verdict, and the token's kind, holder and
credential id only when the token's signature verified (the Centre never signs what
a forger wrote). ``malformed`` and ``foreign_site`` receipts carry the verdict alone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from keys.contract import RECEIPT_TYP
from keys.crypto import MasterKey
from keys.models import KeyPurpose
from keys.service import find_key, public_key, sign_with_active
from verify.core.keyset import TrustedKey
from verify.core.receipts import ReceiptCheck, check_receipt
from verify.receipts.metrics import receipt_issued
from verify.verification.service import Result

RECEIPT_ID_BYTES = 16  # 128 random bits: receipts are not stored, so an id must never repeat


def receipt_claims(result: Result, *, issuer: str, agency: str = "") -> dict[str, Any]:
    """The claims of the receipt of ``result``, checked for ``agency`` (the officer's,
    as given with the check; empty when none was)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "iat": int(result.checked_at.timestamp()),
        "jti": secrets.token_urlsafe(RECEIPT_ID_BYTES),
        "verdict": result.verdict.value,
    }
    if result.kind is not None:
        claims["kind"] = result.kind.value
    if result.claims is not None:  # the signature verified: these are the Centre's own words
        for name in ("sub", "name"):
            if isinstance(result.claims.get(name), str):
                claims[name] = result.claims[name]
        if isinstance(result.claims.get("jti"), str):
            claims["credential"] = result.claims["jti"]
    if agency.strip():
        claims["agency"] = agency.strip()
    return claims


@dataclass(frozen=True, slots=True)
class Receipt:
    token: str  # the compact JWS
    claims: dict[str, Any]


def issue_receipt(session: Session, master: MasterKey, result: Result, *, issuer: str, agency: str = "") -> Receipt:
    """The receipt of ``result``, signed by the active signing key; raise
    NoActiveKeyError when there is none. Nothing is written."""
    claims = receipt_claims(result, issuer=issuer, agency=agency)
    token, _key = sign_with_active(session, master, typ=RECEIPT_TYP, claims=claims)
    receipt_issued(result.verdict.value)
    return Receipt(token, claims)


def check_stored(session: Session, text: str, *, issuer: str) -> ReceiptCheck:
    """Check a receipt against the registry's keys: any signing key, retired ones
    included (a receipt outlives the key that signed it), but a revoked key vouches
    for nothing."""

    def key_for(kid: str) -> TrustedKey | None:
        key = find_key(session, kid)
        if key is None or key.purpose is not KeyPurpose.SIGNING:  # the root signs only key sets
            return None
        return TrustedKey(kid=key.kid, state=key.state.value, key=public_key(key.kid, key.public_jwk))

    return check_receipt(text, issuer=issuer, key_for=key_for)


def checked_at(claims: dict[str, Any]) -> datetime:
    """When the receipt's check was made (``iat``), as a datetime."""
    return datetime.fromtimestamp(claims["iat"], UTC)
