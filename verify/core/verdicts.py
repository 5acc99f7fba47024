"""Verdicts and the one table that decides them. Pure: the server and the offline
client both call ``decide`` with what they know, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from keys.statuslist import EntryStatus


class Verdict(StrEnum):
    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"
    KEY_REVOKED = "key_revoked"
    WRONG_AGENCY = "wrong_agency"
    # a full URL of another site, whatever token it carries: a genuine token copied
    # into a QR that sends phones elsewhere is the mark of a forged card
    FOREIGN_SITE = "foreign_site"


class EntryState(StrEnum):
    """A credential's effective status, from the registry or a status list."""

    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


# A status-list entry (2 bits) as a verifier reads it.
STATE_BY_ENTRY = {
    EntryStatus.VALID: EntryState.VALID,
    EntryStatus.REVOKED: EntryState.REVOKED,
    EntryStatus.SUSPENDED: EntryState.SUSPENDED,
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What a verifier established about a token whose signature verified."""

    key_revoked: bool
    status: EntryState
    not_before: datetime | None
    expires_at: datetime
    agency_matches: bool | None = None  # None: no agency was given or it does not apply


def decide(facts: Facts, *, now: datetime) -> Verdict:
    """The verdict for a well-signed token: the most serious problem wins."""
    if facts.key_revoked:
        return Verdict.KEY_REVOKED
    if facts.status is EntryState.REVOKED:
        return Verdict.REVOKED
    if facts.status is EntryState.SUSPENDED:
        return Verdict.SUSPENDED
    if now >= facts.expires_at:
        return Verdict.EXPIRED
    if facts.not_before is not None and now < facts.not_before:
        return Verdict.NOT_YET_VALID
    if facts.agency_matches is False:
        return Verdict.WRONG_AGENCY
    return Verdict.VALID
