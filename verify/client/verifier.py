"""The verifier: verify credentials and assignments against one trusted server's
signed documents (``verify.client.sync``), online (the status list revalidated on
every check, the rest refreshed when out of date) or offline (never touching the
network).

The verdict comes from ``verify.core.verdicts.decide``, the function the server uses, fed
with what the signed documents establish; the parsing and claim rules below mirror
``verify.verification.service`` (a test holds them to the same answers), because that module
needs the database and this one must not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keys import jose
from keys.contract import ASSIGNMENT_TYP, MAX_PRESENTED_CHARS, STAFF_TYP, status_list_uri
from keys.errors import BadSignatureError, MalformedTokenError
from keys.statuslist import EntryStatus, get_entry
from verify.client import documents as docs
from verify.client.cache import Store
from verify.client.errors import NoServerError, NotSyncedError, StaleDataError, UndecidableError
from verify.client.http import DEFAULT_RETRIES, DEFAULT_TIMEOUT, Fetcher
from verify.client.inputs import Checkable, parse_credential, read_text
from verify.client.results import DataAge, SyncReport, VerificationResult, from_ts
from verify.client.sync import (
    KEYSET_REFRESH,
    MAX_STATUS_LISTS,
    ROSTER_REFRESH,
    Documents,
    Trusted,
)
from verify.client.trust import normalize_server, normalize_thumbprint
from verify.core.agency import agency_matcher
from verify.core.callback import needs_centre_contacts, shows_own_contacts
from verify.core.claims import extract_token as extract_token  # re-exported: part of the client API
from verify.core.claims import is_timestamp, origin, read_presented, required_claims
from verify.core.verdicts import STATE_BY_ENTRY, Facts, Verdict, decide

__all__ = [
    "DataAge",
    "SyncReport",
    "VerificationResult",
    "Verifier",
    "extract_token",
    "normalize_server",
    "normalize_thumbprint",
]

KIND_BY_TYP = {STAFF_TYP: "staff", ASSIGNMENT_TYP: "assignment"}
_LIST_NUMBER = re.compile(r"[1-9][0-9]{0,3}")  # 1..9999, bounded by MAX_STATUS_LISTS below


@dataclass(frozen=True, slots=True)
class _Times:
    """A verified token's times, read once (they may lie outside any calendar)."""

    not_before: datetime | None
    expires_at: datetime


def _times(claims: dict[str, Any]) -> _Times:
    """Raise ValueError for a time out of range (the shapes are already checked)."""
    docs.ts(claims["iat"])
    return _Times(
        not_before=docs.ts(claims["nbf"]) if "nbf" in claims else None,
        expires_at=docs.ts(claims["exp"]),
    )


class Verifier(Documents):
    """Verifies credentials against one trusted server's signed documents.

    ``base_url`` is the trusted server (None: the one synced last), ``https://``
    unless it is this computer. ``trust`` pins the root key's thumbprint; with no
    root pinned yet, the first sync needs it, or ``tofu=True`` to pin whatever root
    the server shows (any later root is refused). ``offline`` never touches the
    network; ``allow_stale`` accepts documents past their expiry (the result says
    so). ``clock`` and ``fetcher`` are parameters for tests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        trust: str | None = None,
        tofu: bool = False,
        cache_dir: Path | None = None,
        offline: bool = False,
        allow_stale: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        clock: Callable[[], datetime] | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        store = Store(cache_dir)
        if base_url is None:
            base_url = store.last_server()
            if base_url is None:
                raise NoServerError("No server given (--server or CHINHDANH_SERVER) and none synced before.")
        server = normalize_server(base_url)
        super().__init__(
            server,
            trust=trust,
            tofu=tofu,
            store=store,
            offline=offline,
            clock=clock or (lambda: datetime.now(UTC)),
            fetcher=fetcher or Fetcher(timeout=timeout, retries=retries),
        )
        self.origin = origin(server)  # normalize_server checked that it parses
        self.allow_stale = allow_stale

    def _prepare(self, now: datetime) -> tuple[Trusted, bool, bool]:
        """The verified cache, refreshed first when online; returns (data, whether
        the key set was fetched just now, whether everything was)."""
        trusted = self._trusted()
        if self.offline:
            if trusted is None:
                raise NotSyncedError(
                    "No cached keys for {server}: run `python -m verify sync` first.", server=self.server
                )
            return trusted, False, False
        if trusted is None:
            self.sync()
            trusted = self._trusted()
            assert trusted is not None  # noqa: S101  # sync raised otherwise
            return trusted, True, True
        fetched = self._state.keyset.fetched_at if self._state.keyset else 0.0
        refreshed = False
        if now.timestamp() - fetched >= KEYSET_REFRESH.total_seconds() or now >= trusted.keyset.expires_at:
            root, _ = self._root()
            self._refresh_keyset(root, now)
            trusted = self._trusted()
            assert trusted is not None  # noqa: S101  # the key set just verified
            refreshed = True
        roster_at = self._state.roster.fetched_at if self._state.roster else 0.0
        if now.timestamp() - roster_at >= ROSTER_REFRESH.total_seconds():
            self._refresh_roster(trusted, now)
        self._save()
        return trusted, refreshed, False

    def _ensure_list(self, trusted: Trusted, number: int, now: datetime, *, synced: bool) -> docs.StatusList | None:
        """Status list ``number``: online, revalidated now (a revocation counts from
        the moment the server records it), unless a sync just fetched it."""
        if not self.offline and not (synced and number in trusted.lists):
            self._refresh_list(trusted, number, now)
            self._save()
        return trusted.lists.get(number)

    def verify(self, token_or_url_or_path: Checkable, *, agency: str | None = None) -> VerificationResult:
        """Verify a token, a QR URL (``…/v/<token>``) or an image file of a card.

        A URL of another site than the trusted server answers ``foreign_site``,
        whatever token it carries. ``agency`` (the officer's agency: a name or an
        email domain) checks an assignment: one for another agency answers
        ``wrong_agency``. Returns the result; raises a ClientError subclass, and
        nothing else, when the answer cannot be decided (InputError, NotSyncedError,
        StaleDataError, UndecidableError, network and trust errors).
        """
        now = self.clock()
        text = read_text(token_or_url_or_path)
        online = not self.offline
        if len(text) > MAX_PRESENTED_CHARS:
            return self._result(Verdict.MALFORMED, now)
        try:
            presented = read_presented(text, own_origin=self.origin)
        except MalformedTokenError:
            return self._result(Verdict.MALFORMED, now)
        if presented.foreign_host is not None:
            # decided on what was presented alone: no key, list or network can change it
            return self._result(Verdict.FOREIGN_SITE, now, foreign_host=presented.foreign_host)
        try:
            parsed = parse_credential(presented.token)
        except MalformedTokenError:
            return self._result(Verdict.MALFORMED, now)
        trusted, refreshed, synced = self._prepare(now)
        key = trusted.keyset.keys.get(parsed.kid)
        if key is None and online and not refreshed:
            # a key made since the last refresh: ask once more before saying unknown
            root, _ = self._root()
            self._refresh_keyset(root, now)
            self._save()
            trusted = self._trusted() or trusted
            key = trusted.keyset.keys.get(parsed.kid)
        age = DataAge(
            keyset_fetched_at=from_ts(self._state.keyset.fetched_at if self._state.keyset else None),
            keyset_expires_at=trusted.keyset.expires_at,
            roster_fetched_at=from_ts(self._state.roster.fetched_at if self._state.roster else None),
        )

        def answer(verdict: Verdict, **more: Any) -> VerificationResult:
            return self._result(verdict, now, data=more.pop("data", age), **more)

        if key is None:
            iat = parsed.claims.get("iat")
            if self.offline and is_timestamp(iat) and iat > trusted.keyset.issued_at.timestamp():
                # signed after our key set: perhaps by a key made since. Only a sync can tell.
                raise NotSyncedError(
                    "The credential was signed after the cached key set: run `python -m verify sync` to learn its key."
                )
            return answer(Verdict.UNKNOWN_KEY, data=self._freshness(age, now, trusted, None))
        try:
            jose.verify_signature(parsed, key.key)
        except BadSignatureError:
            return answer(Verdict.BAD_SIGNATURE)  # the kid names this very key: final
        except MalformedTokenError:
            return answer(Verdict.MALFORMED)
        kind = KIND_BY_TYP[parsed.typ]
        claims = parsed.claims
        try:
            required_claims(claims, self.server)
            times = _times(claims)
        except (MalformedTokenError, ValueError):
            return answer(Verdict.MALFORMED, kind=kind)
        card = trusted.roster.staff.get(claims["sub"]) if trusted.roster else None
        warnings = () if card is not None else ("not_in_roster",)
        if key.state == "revoked":
            return answer(Verdict.KEY_REVOKED, kind=kind, claims=claims, staff=card, warnings=warnings)
        entry = claims["status"]["status_list"]
        prefix = status_list_uri(self.server, 0)[:-1]
        number_text = entry["uri"][len(prefix) :] if entry["uri"].startswith(prefix) else ""
        if not _LIST_NUMBER.fullmatch(number_text) or int(number_text) > MAX_STATUS_LISTS:
            raise UndecidableError(
                "The credential names a status list ({uri}) that this server does not publish.", uri=entry["uri"][:200]
            )
        number = int(number_text)
        status_list = self._ensure_list(trusted, number, now, synced=synced)
        if status_list is None:
            if self.offline:
                raise NotSyncedError(
                    "Status list {number} is not cached: run `python -m verify sync` first.", number=number
                )
            raise UndecidableError(
                "The credential names a status list ({uri}) that this server does not publish.", uri=entry["uri"][:200]
            )
        try:
            raw = get_entry(status_list.bits, entry["idx"])
        except IndexError as exc:
            raise UndecidableError(
                "The credential's status entry {idx} is outside status list {number}.", idx=entry["idx"], number=number
            ) from exc
        try:
            entry_status = EntryStatus(raw)
        except ValueError as exc:  # 3 is reserved by the draft
            raise UndecidableError("The status list gives an unknown status for this credential.") from exc
        data = self._freshness(age, now, trusted, status_list)
        agency_matches = None
        if agency and kind == "assignment":
            matcher = agency_matcher(agency)
            agency_matches = matcher(claims) if matcher is not None else None
        facts = Facts(
            key_revoked=False,
            status=STATE_BY_ENTRY[entry_status],
            not_before=times.not_before,
            expires_at=times.expires_at,
            agency_matches=agency_matches,
        )
        return answer(decide(facts, now=now), kind=kind, claims=claims, staff=card, data=data, warnings=warnings)

    def _result(
        self, verdict: Verdict, now: datetime, *, staff: docs.RosterCard | None = None, **more: Any
    ) -> VerificationResult:
        """The answer, with whom to call back decided by the server's own rule
        (``verify.core.callback``): the card's own phone and email only beside ``valid`` for
        an active person, else the Centre's channels from the cached roster (none when
        no roster is cached: a forged QR is judged without any data)."""
        valid = verdict is Verdict.VALID
        shown = staff
        if staff is not None and not shows_own_contacts(staff, valid=valid):
            shown = replace(staff, phone=None, email=None)
        contacts: tuple[docs.OfficialChannel, ...] = ()
        if needs_centre_contacts(staff, valid=valid):
            trusted = self._trusted()  # the verified cache, read again only if it changed
            if trusted is not None and trusted.roster is not None:
                contacts = trusted.roster.official_contacts
        return VerificationResult(
            verdict, self.server, now, not self.offline, staff=shown, official_contacts=contacts, **more
        )

    def _freshness(self, age: DataAge, now: datetime, trusted: Trusted, status_list: docs.StatusList | None) -> DataAge:
        """The data age for an answer that depends on the key set (and a status
        list); raise StaleDataError if any is past its expiry, unless allowed."""
        cached = self._state.status_lists.get(status_list.number) if status_list else None
        expiries = [trusted.keyset.expires_at] + ([status_list.expires_at] if status_list else [])
        lapsed = [moment for moment in expiries if now >= moment]
        if lapsed and not self.allow_stale:
            raise StaleDataError(
                "The cached data expired on {expired}: the status may have changed since. Sync again, or pass "
                "--allow-stale to decide on old data.",
                expired=min(lapsed).isoformat(),
            )
        return DataAge(
            keyset_fetched_at=age.keyset_fetched_at,
            keyset_expires_at=age.keyset_expires_at,
            status_list=status_list.number if status_list else None,
            status_list_fetched_at=from_ts(cached.fetched_at) if cached else None,
            status_list_expires_at=status_list.expires_at if status_list else None,
            roster_fetched_at=age.roster_fetched_at,
            stale=bool(lapsed),
        )
