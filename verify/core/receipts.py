"""Verification receipts, read and checked: the rules the server's receipt page
(``/r/<receipt>``) and the offline client (``python -m verify receipt``) share, so they
cannot disagree about what is genuine.

A receipt is a compact JWS (``typ: verification-receipt+jwt``) signed by one of the
Centre's signing keys. Where the key comes from is the caller's business (the
registry's database, or the key set the client verified under its pinned root):
``check_receipt`` takes a function from ``kid`` to the key. No Flask and no
database here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from keys import jose
from keys.contract import RECEIPT_PREFIX, RECEIPT_TYP
from keys.errors import N_, BadSignatureError, MalformedTokenError
from verify.core.claims import is_timestamp
from verify.core.keyset import TrustedKey
from verify.core.verdicts import Verdict

RECEIPT_TYPS = frozenset({RECEIPT_TYP})
KINDS = frozenset({"staff", "assignment"})
TEXT_CLAIMS = ("sub", "name", "credential", "agency")  # present only when known
MAX_RECEIPT_CHARS = jose.MAX_TOKEN_BYTES  # the longest agency and name fit in a third of it


class ReceiptStatus(StrEnum):
    """What a check of a receipt found. Only ``genuine`` vouches for anything."""

    GENUINE = "genuine"
    FORGED = "forged"  # the signature does not verify: a claim was changed, or it was never ours
    UNKNOWN_KEY = "unknown_key"  # signed by no key of the Centre's
    KEY_REVOKED = "key_revoked"  # signed by a key since revoked as compromised
    MALFORMED = "malformed"  # not a receipt at all


# what each status says to a person: the receipt's page and the offline client
HEADLINES = {
    ReceiptStatus.GENUINE: N_("GENUINE RECEIPT: issued by the Centre's verification service"),
    ReceiptStatus.FORGED: N_("NOT GENUINE: this receipt was changed or forged"),
    ReceiptStatus.UNKNOWN_KEY: N_("NOT GENUINE: this receipt was not signed by the Centre"),
    ReceiptStatus.KEY_REVOKED: N_("NOT GENUINE: the key that signed this receipt has been revoked"),
    ReceiptStatus.MALFORMED: N_("NOT A RECEIPT: this code cannot be read"),
}


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    status: ReceiptStatus
    claims: dict[str, Any] | None = None  # only for a genuine receipt

    @property
    def genuine(self) -> bool:
        return self.status is ReceiptStatus.GENUINE


def extract_receipt(text: str) -> str:
    """The receipt in ``text``: a bare JWS or its page's URL (``…/r/<receipt>``)."""
    text = text.strip()
    if RECEIPT_PREFIX in text:
        text = text.rsplit(RECEIPT_PREFIX, 1)[1].split("?", 1)[0].split("#", 1)[0]
    return text


def receipt_claims(claims: dict[str, Any], issuer: str) -> None:
    """Return if ``claims`` has a receipt's shape and names ``issuer``; raise
    MalformedTokenError otherwise."""
    if claims.get("iss") != issuer:
        raise MalformedTokenError("issuer is not the trusted service")
    if not is_timestamp(claims.get("iat")):
        raise MalformedTokenError("claim iat missing or out of range")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise MalformedTokenError("claim jti missing")
    if claims.get("verdict") not in {v.value for v in Verdict}:
        raise MalformedTokenError("claim verdict is not a verdict")
    if "kind" in claims and claims["kind"] not in KINDS:
        raise MalformedTokenError("claim kind is not a kind")
    for name in TEXT_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            raise MalformedTokenError(f"claim {name} is not text")


def check_receipt(text: str, *, issuer: str, key_for: Callable[[str], TrustedKey | None]) -> ReceiptCheck:
    """Check ``text`` (a receipt or its URL) against the keys ``key_for`` knows.
    Never raises for what was presented: every failure is a status."""
    if len(text) > MAX_RECEIPT_CHARS * 2:
        return ReceiptCheck(ReceiptStatus.MALFORMED)
    try:
        parsed = jose.parse_token(extract_receipt(text), typs=RECEIPT_TYPS)
    except MalformedTokenError:
        return ReceiptCheck(ReceiptStatus.MALFORMED)
    found = key_for(parsed.kid)
    if found is None:
        return ReceiptCheck(ReceiptStatus.UNKNOWN_KEY)
    try:
        jose.verify_signature(parsed, found.key)
    except BadSignatureError:
        return ReceiptCheck(ReceiptStatus.FORGED)
    if found.revoked:
        return ReceiptCheck(ReceiptStatus.KEY_REVOKED)
    try:
        receipt_claims(parsed.claims, issuer)
    except MalformedTokenError:
        return ReceiptCheck(ReceiptStatus.MALFORMED)
    return ReceiptCheck(ReceiptStatus.GENUINE, parsed.claims)
