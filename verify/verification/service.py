"""Server-side verification of a credential or assignment token.

``verify_token`` never raises for a bad token: every failure of parsing or crypto is
turned into a verdict here, in one place, from the exceptions ``keys`` raises. A
full URL is read first (``verify.core.claims.read_presented``): one of another origin
than the service's own answers ``foreign_site`` before its token is even parsed, so
that verdict wins over every other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from keys import jose
from keys.contract import ASSIGNMENT_TYP, CREDENTIAL_TYPS, MAX_PRESENTED_CHARS, STAFF_TYP
from keys.errors import BadSignatureError, MalformedTokenError
from keys.models import KeyState
from keys.service import public_key
from registry.channels.service import ChannelRecord
from registry.credentials.entries import cards_block, effective_status
from registry.credentials.models import CredentialKind
from registry.platform.db import read_with_retry
from registry.queries import (
    KEY_AND_CREDENTIAL,
    CredentialRecord,
    VerificationRead,
    holder_card_statuses,
    official_contacts,
)
from verify.core.agency import agency_matcher
from verify.core.callback import needs_centre_contacts
from verify.core.claims import lookup_id, origin, read_presented, required_claims
from verify.core.verdicts import STATE_BY_ENTRY, EntryState, Facts, Verdict, decide

ALL_TYPS = CREDENTIAL_TYPS
KIND_BY_TYP = {STAFF_TYP: CredentialKind.STAFF, ASSIGNMENT_TYP: CredentialKind.ASSIGNMENT}
MAX_TOKEN_FIELD = MAX_PRESENTED_CHARS  # a token field longer than this is refused (413) before parsing
# ``expect``: what the caller was shown. A token of the other typ then answers
# "malformed" (a verdict, not an error), so a card can't stand in for a letter.
EXPECT_TYPS = {
    "": ALL_TYPS,
    "assignment": frozenset({ASSIGNMENT_TYP}),
    "credential": frozenset({STAFF_TYP}),
}


def expect_value(value: object) -> str | None:
    """``expect`` as a key of EXPECT_TYPS, or None when it is none of them."""
    if not isinstance(value, str) or value.strip().lower() not in EXPECT_TYPS:
        return None
    return value.strip().lower()


@dataclass(frozen=True, slots=True)
class Result:
    verdict: Verdict
    checked_at: datetime
    kind: CredentialKind | None = None
    claims: dict[str, Any] | None = None  # only when the signature verified
    credential: CredentialRecord | None = None
    token: str | None = None
    foreign_host: str | None = None  # for foreign_site: where the presented URL points
    # the Centre's channels to call back on when the answer gives none of the
    # holder's own (verify.core.callback), read with the verdict by ``verify_on``
    official_contacts: tuple[ChannelRecord, ...] = ()
    # the values of the extra columns a caller's VerificationRead read with the
    # credential (registry.queries), when the answer names one
    extra: tuple[Any, ...] = ()


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
    own_origin: str | None = None,
    read: VerificationRead = KEY_AND_CREDENTIAL,
) -> Result:
    """Verify ``text`` (a token or a QR URL) against the registry read through ``db``
    and return the verdict with what can be trusted about it. ``agency_matches``, if
    given, is called with the verified claims of an assignment and returns True/False
    (``wrong_agency``) or None. ``own_origin`` is ``origin(issuer)``, which a server
    computes once at start-up; computed here when not given. ``read`` is the round
    trip that reads the key and the credential, perhaps with extra columns."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return Result(Verdict.MALFORMED, now)
    if len(text) > MAX_PRESENTED_CHARS:
        return Result(Verdict.MALFORMED, now)
    own = own_origin if own_origin is not None else origin(issuer)  # a bad issuer is no verdict: it raises
    try:
        presented = read_presented(text, own_origin=own)
    except MalformedTokenError:
        return Result(Verdict.MALFORMED, now)
    if presented.foreign_host is not None:
        return Result(Verdict.FOREIGN_SITE, now, foreign_host=presented.foreign_host)
    try:
        parsed = jose.parse_token(presented.token, typs=typs)
    except MalformedTokenError:
        return Result(Verdict.MALFORMED, now)
    key, record, extra = read(db, parsed.kid, lookup_id(parsed.claims))
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
        return Result(
            Verdict.KEY_REVOKED, now, kind=kind, claims=claims, credential=record, token=parsed.raw, extra=extra
        )
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
    return Result(
        decide(facts, now=now), now, kind=kind, claims=claims, credential=record, token=parsed.raw, extra=extra
    )


def verify_on(
    read_engine: Engine,
    text: str,
    *,
    issuer: str,
    own_origin: str,
    now: datetime,
    typs: frozenset[str] = ALL_TYPS,
    agency: str = "",
) -> Result:
    """``verify_read`` on a connection of the read engine (autocommit; see
    registry.platform.db.make_read_engine), checking an assignment against the officer's
    ``agency`` when one is given. The verify view, the fast path and the photo check
    all answer with this."""
    agency_matches = agency_matcher(agency)

    def read(conn: Connection) -> Result:
        return verify_read(
            conn, text, issuer=issuer, own_origin=own_origin, now=now, typs=typs, agency_matches=agency_matches
        )

    return read_with_retry(read_engine, read)


def verify_read(
    conn: Connection,
    text: str,
    *,
    issuer: str,
    own_origin: str,
    now: datetime,
    typs: frozenset[str] = ALL_TYPS,
    agency_matches: Any = None,
    read: VerificationRead = KEY_AND_CREDENTIAL,
) -> Result:
    """``verify_token`` on ``conn``, through ``read``. When the answer gives none of the holder's own
    contacts to call back on (``verify.core.callback``), the Centre's official contacts
    are read on the same connection; a valid answer, the busy case, needs no second
    round trip."""
    result = verify_token(
        conn, text, issuer=issuer, now=now, typs=typs, agency_matches=agency_matches, own_origin=own_origin, read=read
    )
    staff = result.credential.staff if result.credential is not None else None
    if needs_centre_contacts(staff, valid=result.verdict is Verdict.VALID):
        return replace(result, official_contacts=official_contacts(conn))
    return result
