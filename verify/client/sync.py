"""The trusted documents of one server: pin its root, fetch and verify the key set,
the status lists and the roster, cache them, and read them back verified.

Trust starts from a root thumbprint the user gives (``trust``), or, only when asked
(``tofu``), from whatever root the server shows the first time. Fetches are
conditional where the document allows it; a status list is reused on a 304 only
while it is within its ``ttl`` of its ``iat`` (``verify.client.http`` accepts a
304 only in answer to the client's own If-None-Match).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from keys import strictjson
from keys.contract import JWKS_PATH, KEYSET_PATH, ROOT_KEY_PATH, ROSTER_PATH, STATUS_LIST_PATH
from verify.client import documents as docs
from verify.client.cache import Cached, Store
from verify.client.errors import (
    ClientError,
    InvalidResponseError,
    NetworkError,
    NotSyncedError,
    RollbackError,
    RootChangedError,
    TrustRequiredError,
)
from verify.client.http import Answer, Fetcher
from verify.client.results import SyncReport
from verify.client.trust import normalize_thumbprint

MAX_STATUS_LISTS = 1000  # 65 million credentials; a bound on discovery, not a real limit
# Online, the key set is fetched again this often (the server's Cache-Control); it
# is signed offline, once a month or so, and accepted until its own exp.
KEYSET_REFRESH = timedelta(minutes=5)
# A status list fetched fresh (not a 304) must be younger than its own ttl: the server
# re-signs every half ttl, so an older one is a recorded answer replayed. The margin
# absorbs a client clock a few minutes off.
MAX_CLOCK_SKEW = timedelta(minutes=10)
ROSTER_REFRESH = timedelta(hours=1)  # names and titles change rarely; verdicts never depend on them


def N_(message: str) -> str:
    """Marks a msgid for the catalog; translated where it is shown."""
    return message


def _json(body: bytes, what: str) -> Any:
    try:
        return strictjson.loads(body, max_depth=docs.MAX_DOCUMENT_DEPTH)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidResponseError("The {what} sent by the server is not valid.", what=what) from exc


@dataclass
class Trusted:
    """The verified view of a server's cache."""

    root: docs.RootKey
    keyset: docs.KeySet
    lists: dict[int, docs.StatusList] = field(default_factory=dict)
    roster: docs.Roster | None = None


class Documents:
    """One server's signed documents: fetched, verified from the pinned root down,
    cached. ``trust`` is the root's thumbprint; ``tofu`` allows the first sync to
    pin whatever root the server shows when no thumbprint is given."""

    def __init__(
        self,
        server: str,
        *,
        trust: str | None,
        tofu: bool,
        store: Store,
        offline: bool,
        clock: Callable[[], datetime],
        fetcher: Fetcher,
    ) -> None:
        self.server = server
        self.trust = normalize_thumbprint(trust) if trust else None
        self.tofu = tofu
        self.store = store
        self.offline = offline
        self.clock = clock
        self.fetcher = fetcher
        self.notices: list[tuple[str, dict[str, Any]]] = []  # (msgid, details) for people to read
        self._state = self.store.load(self.server)
        self._memo: tuple[tuple[Any, ...], Trusted | None] | None = None
        self._dirty = False  # the state differs from the file

    # -- network -----------------------------------------------------------------

    def _fetch(self, path: str, *, etag: str | None = None, allow_404: bool = False) -> Any:
        if self.offline:
            raise NotSyncedError("Offline, and the cached data for {server} is not enough.", server=self.server)
        self._dirty = True  # whatever comes back updates the state, if only a fetch time
        answer: Answer | None = self.fetcher.get(self.server + path, etag=etag, allow_404=allow_404)
        return answer

    def _text(self, body: bytes, what: str) -> str:
        try:
            return body.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise InvalidResponseError("The {what} sent by the server is not valid.", what=what) from exc

    def _root(self) -> tuple[docs.RootKey, bool]:
        """The pinned root key, pinning it now if needed; returns (root, newly pinned
        on first use). Raise TrustRequiredError when nothing is pinned and neither
        ``trust`` nor ``tofu`` was given, RootChangedError if the server's root is not
        the trusted one."""
        state = self._state
        cached: docs.RootKey | None = None
        if state.root_jwk is not None:
            try:
                cached = docs.root_from_jwk(state.root_jwk)
            except InvalidResponseError:
                cached = None
        if cached is not None and (self.trust is None or cached.kid == self.trust):
            if self.trust is not None and state.root_source != "trust":
                state.root_source = "trust"  # the root pinned on first use, now confirmed by the letter
                self._dirty = True
            return cached, False
        if cached is None and self.trust is None and not self.tofu:
            # asked before any request: whatever a first answer says proves nothing
            raise TrustRequiredError(
                "No root key is pinned for {server} yet. Give its thumbprint with --trust THUMBPRINT (or "
                "CHINHDANH_TRUST): the Board prints it in its official letters, and the server's administrator "
                "can print it with `flask --app app keys root show`. Or pass --tofu to pin, unchecked, whatever "
                "root the server shows.",
                server=self.server,
            )
        answer = self._fetch(ROOT_KEY_PATH)
        root = docs.root_from_jwk(_json(answer.body, "root key"))
        if self.trust is not None:
            if root.kid != self.trust:
                raise RootChangedError(
                    "The server's root key is {kid}, not the trusted root {root}. Refusing its keys.",
                    kid=root.kid,
                    root=self.trust,
                )
            if cached is not None:
                self.notices.append(
                    (
                        N_("The pinned root key {old} is replaced by {new}, given with --trust."),
                        {"old": cached.kid, "new": root.kid},
                    )
                )
            state.root_jwk, state.root_source = root.jwk, "trust"
            return root, False
        state.root_jwk, state.root_source = root.jwk, "tofu"
        return root, True

    def _refresh_keyset(self, root: docs.RootKey, now: datetime) -> None:
        """Fetch the key set the offline root signed: accepted until its ``exp``,
        refused once expired (a replay, or a Centre that has not signed it again)
        and refused when older than the one cached (lower version or earlier iat):
        a recording from before a key change."""
        answer = self._fetch(KEYSET_PATH)
        token = self._text(answer.body, "key set")
        keyset = docs.verify_keyset(token, root, issuer=self.server)
        if now >= keyset.expires_at + MAX_CLOCK_SKEW:
            raise RollbackError(
                "The server sent a key set that expired on {expired}: a replay, or the Centre has not signed its "
                "keys again (or this computer's clock is wrong).",
                expired=keyset.expires_at.isoformat(),
            )
        previous = self._verified_keyset(root)
        if previous is not None and (
            keyset.version < previous.version
            or keyset.issued_at < previous.issued_at
            or (keyset.version == previous.version and keyset.raw != previous.raw and keyset.version > 0)
        ):
            raise RollbackError("The server sent a {what} older than the one already cached.", what="key set")
        self._state.keyset = Cached(body=token, etag=answer.etag, fetched_at=now.timestamp())

    def _refresh_jwks(self, keyset: docs.KeySet, now: datetime) -> list[str]:
        """Fetch the plain JWKS for the record and compare it with the key set; it is
        never trusted. Returns warning codes."""
        cached = self._state.jwks
        answer = self._fetch(JWKS_PATH, etag=cached.etag if cached else None)
        if answer.status == 304 and cached is not None:
            cached.fetched_at = now.timestamp()
            body = cached.body
        else:
            body = answer.body.decode("utf-8", "replace")
            self._state.jwks = Cached(body=body, etag=answer.etag, fetched_at=now.timestamp())
        value = _json(body.encode("utf-8"), "key list (JWKS)")
        keys = value.get("keys") if isinstance(value, dict) else None
        if not isinstance(keys, list):
            raise InvalidResponseError("The {what} sent by the server is not valid.", what="key list (JWKS)")
        for entry in keys:
            kid = entry.get("kid") if isinstance(entry, dict) else None
            trusted = keyset.keys.get(kid) if isinstance(kid, str) else None
            if trusted is None or trusted.state == "revoked":
                self.notices.append(
                    (N_("The JWKS lists a key that the root-signed key set does not vouch for; it is ignored."), {})
                )
                return ["jwks_mismatch"]
        return []

    def _refresh_list(self, trusted: Trusted, number: int, now: datetime) -> bool:
        """Fetch status list ``number`` (conditionally while the cached copy is within
        its ttl of its iat); False if the server has no such list."""
        cached = self._state.status_lists.get(number)
        old = trusted.lists.get(number)
        # Past its ttl a list must be fetched afresh, so no copy is named: a 304 then
        # (which the fetcher refuses) cannot keep an old list, and its revocations
        # hidden, alive until its exp.
        etag = None
        if cached is not None and old is not None and now < old.issued_at + timedelta(seconds=old.ttl_seconds):
            etag = cached.etag
        answer = self._fetch(STATUS_LIST_PATH + str(number), etag=etag, allow_404=True)
        if answer is None:
            self._state.status_lists.pop(number, None)
            trusted.lists.pop(number, None)
            return False
        if answer.status == 304 and cached is not None:
            cached.fetched_at = now.timestamp()
            return True
        token = self._text(answer.body, "status list")
        fresh = docs.verify_status_list(token, trusted.keyset, issuer=self.server, number=number)
        if now - fresh.issued_at > timedelta(seconds=fresh.ttl_seconds) + MAX_CLOCK_SKEW:
            raise RollbackError(
                "The server sent a status list signed on {signed}, older than it may be: a replay, or a wrong clock "
                "on this computer.",
                signed=fresh.issued_at.isoformat(),
            )
        # iat has a one-second grain: a different list signed in the same second as the
        # cached one may be the older of the two, so it is refused as well
        if old is not None and (
            fresh.issued_at < old.issued_at or (fresh.issued_at == old.issued_at and fresh.bits != old.bits)
        ):
            raise RollbackError("The server sent a {what} older than the one already cached.", what="status list")
        self._state.status_lists[number] = Cached(body=token, etag=answer.etag, fetched_at=now.timestamp())
        trusted.lists[number] = fresh
        return True

    def _refresh_roster(self, trusted: Trusted, now: datetime) -> None:
        cached = self._state.roster
        old = trusted.roster
        etag = None
        if cached is not None and old is not None and now < old.issued_at + (old.expires_at - old.issued_at) / 2:
            etag = cached.etag
        answer = self._fetch(ROSTER_PATH, etag=etag)
        if answer.status == 304 and cached is not None:
            cached.fetched_at = now.timestamp()
            return
        token = self._text(answer.body, "roster")
        fresh = docs.verify_roster(token, trusted.keyset, issuer=self.server)
        if old is not None and fresh.issued_at < old.issued_at:
            raise RollbackError("The server sent a {what} older than the one already cached.", what="roster")
        self._state.roster = Cached(body=token, etag=answer.etag, fetched_at=now.timestamp())
        trusted.roster = fresh

    # -- the verified cache --------------------------------------------------------

    def _verified_keyset(self, root: docs.RootKey) -> docs.KeySet | None:
        if self._state.keyset is None:
            return None
        try:
            return docs.verify_keyset(self._state.keyset.body, root, issuer=self.server)
        except ClientError:
            return None  # a cache that does not verify is no cache

    def _trusted(self) -> Trusted | None:
        """Everything in the cache that verifies from the pinned root down; verified
        once per version of the cache, not once per check."""
        state = self._state
        key = (
            self.trust,
            json.dumps(state.root_jwk, sort_keys=True),
            state.keyset.body if state.keyset else None,
            tuple((n, c.body) for n, c in sorted(state.status_lists.items())),
            state.roster.body if state.roster else None,
        )
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        trusted = self._verify_cache()
        self._memo = (key, trusted)
        return trusted

    def _verify_cache(self) -> Trusted | None:
        if self._state.root_jwk is None:
            return None
        try:
            root = docs.root_from_jwk(self._state.root_jwk)
        except InvalidResponseError:
            return None
        if self.trust is not None and root.kid != self.trust:
            return None
        keyset = self._verified_keyset(root)
        if keyset is None:
            return None
        trusted = Trusted(root=root, keyset=keyset)
        for number, cached in list(self._state.status_lists.items()):
            try:
                trusted.lists[number] = docs.verify_status_list(cached.body, keyset, issuer=self.server, number=number)
            except ClientError:
                del self._state.status_lists[number]
                self._dirty = True
        if self._state.roster is not None:
            try:
                trusted.roster = docs.verify_roster(self._state.roster.body, keyset, issuer=self.server)
            except ClientError:
                self._state.roster = None
                self._dirty = True
        return trusted

    def _save(self) -> None:
        if self._dirty:
            self.store.save(self._state)
            self._dirty = False

    # -- public API ------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Download (conditionally) and verify the key set, the JWKS, every status
        list and the roster, and cache them. Raise a ClientError subclass; nothing
        is cached from a sync that failed."""
        if self.offline:
            raise NotSyncedError("Offline, and the cached data for {server} is not enough.", server=self.server)
        now = self.clock()
        root, newly_pinned = self._root()
        self._refresh_keyset(root, now)
        trusted = self._trusted()
        if trusted is None:  # pragma: no cover - the key set just verified
            raise NotSyncedError("Offline, and the cached data for {server} is not enough.", server=self.server)
        try:
            warnings = self._refresh_jwks(trusted.keyset, now)
        except NetworkError:
            # the JWKS is for ordinary JOSE libraries; nothing here depends on it
            self.notices.append((N_("The JWKS could not be read; the root-signed key set is used alone."), {}))
            warnings = ["jwks_unavailable"]
        numbers = []
        for number in range(1, MAX_STATUS_LISTS + 1):
            if not self._refresh_list(trusted, number, now):
                break
            numbers.append(number)
        for number in [n for n in self._state.status_lists if n not in numbers]:
            del self._state.status_lists[number]
        self._refresh_roster(trusted, now)
        self._save()
        if newly_pinned:
            self.notices.insert(
                0,
                (
                    N_(
                        "TRUST ON FIRST USE (--tofu): the root key {kid} of {server} is now pinned without any check. "
                        "Compare this thumbprint with the one the Board prints in its official letters (the server's "
                        "administrator can print it with `flask --app app keys root show`); if they differ, sync again "
                        "with --trust and the thumbprint from the letter."
                    ),
                    {"kid": root.kid, "server": self.server},
                ),
            )
        return SyncReport(
            server=self.server,
            root_thumbprint=root.kid,
            root_source=self._state.root_source or "tofu",
            newly_pinned=newly_pinned,
            keys=len(trusted.keyset.keys),
            status_lists=tuple(numbers),
            roster_staff=len(trusted.roster.staff) if trusted.roster else 0,
            synced_at=now,
            warnings=tuple(warnings),
        )
