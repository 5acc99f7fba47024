"""Server-side verification of a credential or assignment token.

``verify_token`` never raises for a bad token: every failure of parsing or crypto is
turned into a verdict here, in one place, from the exceptions ``keys`` raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from keys import jose
from keys.db import read_with_retry
from keys.errors import BadSignatureError, MalformedTokenError
from keys.models import KeyState
from keys.service import public_key
from registry.credentials import ASSIGNMENT_TYP, STAFF_TYP, cards_block, effective_status
from registry.models import CredentialKind
from registry.queries import CredentialRecord, holder_card_statuses, key_and_credential
from verify.agency import agency_matcher
from verify.claims import extract_token, lookup_id, required_claims
from verify.verdicts import STATE_BY_ENTRY, EntryState, Facts, Verdict, decide

ALL_TYPS = frozenset({STAFF_TYP, ASSIGNMENT_TYP})
KIND_BY_TYP = {STAFF_TYP: CredentialKind.STAFF, ASSIGNMENT_TYP: CredentialKind.ASSIGNMENT}
MAX_INPUT_CHARS = 8192  # a QR URL with its token is well under 1,000


@dataclass(frozen=True, slots=True)
class Result:
    verdict: Verdict
    checked_at: datetime
    kind: CredentialKind | None = None
    claims: dict[str, Any] | None = None  # only when the signature verified
    credential: CredentialRecord | None = None
    token: str | None = None


def _entry_state(db: Session | Connection, record: CredentialRecord) -> EntryState:
    """What the status list says of ``record``, computed by the registry's own rule
    from the rows (so a verification never waits for the list to be re-signed)."""
    card_blocks = record.kind is CredentialKind.ASSIGNMENT and cards_block(holder_card_statuses(db, record.staff.code))
    return STATE_BY_ENTRY[effective_status(record.status, record.staff.status, card_blocks=card_blocks)]


def _ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def verify_token(
    db: Session | Connection,
    text: str | bytes,
    *,
    issuer: str,
    now: datetime,
    typs: frozenset[str] = ALL_TYPS,
    agency_matches: Any = None,
) -> Result:
    """Verify ``text`` (a token or a QR URL) against the registry read through ``db``
    and return the verdict with what can be trusted about it. ``agency_matches``, if
    given, is called with the verified claims of an assignment and returns True/False
    (``wrong_agency``) or None."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return Result(Verdict.MALFORMED, now)
    if len(text) > MAX_INPUT_CHARS:
        return Result(Verdict.MALFORMED, now)
    token = extract_token(text)
    try:
        parsed = jose.parse_token(token, typs=typs)
    except MalformedTokenError:
        return Result(Verdict.MALFORMED, now)
    key, record = key_and_credential(db, parsed.kid, lookup_id(parsed.claims))
    if key is None:
        return Result(Verdict.UNKNOWN_KEY, now, token=parsed.raw)
    try:
        jose.verify_signature(parsed, public_key(key.kid, key.public_jwk))
    except BadSignatureError:
        return Result(Verdict.BAD_SIGNATURE, now, token=parsed.raw)
    except MalformedTokenError:
        return Result(Verdict.MALFORMED, now, token=parsed.raw)
    kind = KIND_BY_TYP[parsed.typ]
    claims = parsed.claims
    try:
        required_claims(claims, issuer)
    except MalformedTokenError:
        return Result(Verdict.MALFORMED, now, kind=kind, token=parsed.raw)
    if key.state is KeyState.REVOKED:
        return Result(Verdict.KEY_REVOKED, now, kind=kind, claims=claims, credential=record, token=parsed.raw)
    if record is None or record.kind is not kind or record.staff.code != claims["sub"]:
        # signed by our key yet not in the registry: we vouch for nothing we cannot find
        return Result(Verdict.REVOKED, now, kind=kind, claims=claims, token=parsed.raw)
    agency = agency_matches(claims) if agency_matches is not None and kind is CredentialKind.ASSIGNMENT else None
    facts = Facts(
        key_revoked=False,
        status=_entry_state(db, record),
        not_before=_ts(claims["nbf"]) if "nbf" in claims else None,
        expires_at=_ts(claims["exp"]),
        agency_matches=agency,
    )
    return Result(decide(facts, now=now), now, kind=kind, claims=claims, credential=record, token=parsed.raw)


def verify_on(
    read_engine: Engine, text: str, *, issuer: str, now: datetime, typs: frozenset[str], agency: str = ""
) -> Result:
    """``verify_token`` on a connection of the read engine (autocommit, one round
    trip; see keys.db.make_read_engine), checking an assignment against the
    officer's ``agency`` when one is given. The verify view and the fast path both
    answer with this."""
    agency_matches = agency_matcher(agency)
    return read_with_retry(
        read_engine,
        lambda conn: verify_token(conn, text, issuer=issuer, now=now, typs=typs, agency_matches=agency_matches),
    )
