"""The verifier: sync the trusted documents from one server, then verify credentials
and assignments against them, online (refreshing what is out of date first) or
offline (never touching the network).

The verdict comes from ``verify.verdicts.decide``, the function the server uses, fed
with what the signed documents establish; the parsing and claim rules below mirror
``verify.tokens`` (a test holds them to the same answers), because that module
needs the database and this one must not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from keys import jose, strictjson
from keys.errors import BadSignatureError, MalformedTokenError
from keys.statuslist import EntryStatus, get_entry
from verify.claims import extract_token as extract_token  # re-exported: part of the client API
from verify.claims import is_timestamp, required_claims
from verify.client import documents as docs
from verify.client.cache import Cached, Store
from verify.client.errors import (
    ClientError,
    InputError,
    InvalidResponseError,
    NetworkError,
    NoServerError,
    NotSyncedError,
    RollbackError,
    RootChangedError,
    StaleDataError,
    UndecidableError,
)
from verify.client.http import DEFAULT_RETRIES, DEFAULT_TIMEOUT, Fetcher
from verify.verdicts import STATE_BY_ENTRY, Facts, Verdict, decide

STAFF_TYP = "staff-credential+jwt"  # registry.credentials.STAFF_TYP
ASSIGNMENT_TYP = "assignment+jwt"  # registry.credentials.ASSIGNMENT_TYP
CREDENTIAL_TYPS = frozenset({STAFF_TYP, ASSIGNMENT_TYP})
KIND_BY_TYP = {STAFF_TYP: "staff", ASSIGNMENT_TYP: "assignment"}
MAX_INPUT_CHARS = 8192  # verify.tokens.MAX_INPUT_CHARS: a QR URL is well under 1,000
MAX_FILE_BYTES = 5 * 1024 * 1024  # verify.qrdecode.MAX_IMAGE_BYTES: a phone photo of a card
MAX_STATUS_LISTS = 1000  # 65 million credentials; a bound on discovery, not a real limit
KEYSET_REFRESH = timedelta(minutes=5)  # the server's Cache-Control for the key set
KEYSET_MAX_AGE = KEYSET_REFRESH  # a cache in between may serve it this old, no older
# A status list fetched fresh (not a 304) must be younger than its own ttl: the server
# re-signs every half ttl, so an older one is a recorded answer replayed. The margin
# absorbs a client clock a few minutes off.
MAX_CLOCK_SKEW = timedelta(minutes=10)
ROSTER_REFRESH = timedelta(hours=1)  # names and titles change rarely; verdicts never depend on them
MAX_SERVER_URL = 200
_FILE_NAME = re.compile(r"\.(?:jpe?g|png|webp|txt)$", re.IGNORECASE)


def N_(message: str) -> str:
    """Marks a msgid for the catalog; translated where it is shown."""
    return message


def normalize_server(url: str) -> str:
    """The server's base URL as it appears in ``iss``; raise NoServerError."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if (
        len(text) > MAX_SERVER_URL
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise NoServerError("{url} is not the address of a server (http:// or https://).", url=url[:MAX_SERVER_URL])
    return text


def normalize_thumbprint(text: str) -> str:
    """A thumbprint as printed in a letter (spaces or line breaks allowed); raise
    InputError if it is not a base64url SHA-256 thumbprint."""
    value = "".join(text.split())
    if not jose.KID_RE.match(value):
        raise InputError("{value} is not a key thumbprint (43 letters, digits, - or _).", value=text[:100])
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


@dataclass(frozen=True, slots=True)
class DataAge:
    """How fresh the documents behind an answer were."""

    keyset_fetched_at: datetime | None = None
    keyset_expires_at: datetime | None = None
    status_list: int | None = None
    status_list_fetched_at: datetime | None = None
    status_list_expires_at: datetime | None = None
    roster_fetched_at: datetime | None = None
    stale: bool = False  # decided on expired data because allow_stale was given

    def as_json(self) -> dict[str, Any]:
        return {
            "keyset_fetched_at": _iso(self.keyset_fetched_at),
            "keyset_expires_at": _iso(self.keyset_expires_at),
            "status_list": self.status_list,
            "status_list_fetched_at": _iso(self.status_list_fetched_at),
            "status_list_expires_at": _iso(self.status_list_expires_at),
            "roster_fetched_at": _iso(self.roster_fetched_at),
            "stale": self.stale,
        }


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The answer for one token.

    ``verdict`` is one of DESIGN.md's words. ``claims`` are present only when the
    signature verified under a key the pinned root vouches for; ``staff`` is the
    roster's card for the token's subject, when the roster lists it."""

    verdict: Verdict
    server: str
    checked_at: datetime
    online: bool
    kind: str | None = None  # "staff" or "assignment"
    claims: dict[str, Any] | None = None
    staff: docs.RosterCard | None = None
    data: DataAge = field(default_factory=DataAge)
    warnings: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.verdict is Verdict.VALID

    @property
    def exit_code(self) -> int:
        return 0 if self.valid else 1

    def credential_json(self) -> dict[str, Any] | None:
        if self.claims is None:
            return None
        c = self.claims
        out: dict[str, Any] = {
            "id": c.get("jti"),
            "kind": self.kind,
            "subject": c.get("sub"),
            "name": c.get("name"),
            "issued_at": _iso(docs.ts(c["iat"])) if type(c.get("iat")) is int else None,
            "not_before": _iso(docs.ts(c["nbf"])) if type(c.get("nbf")) is int else None,
            "expires_at": _iso(docs.ts(c["exp"])) if type(c.get("exp")) is int else None,
        }
        for name in ("agency", "agency_domain", "purpose"):
            if name in c:
                out[name] = c[name]
        return out

    def as_json(self) -> dict[str, Any]:
        """The stable ``--json`` shape documented in docs/offline-client.md."""
        return {
            "verdict": self.verdict.value,
            "exit_code": self.exit_code,
            "server": self.server,
            "mode": "online" if self.online else "offline",
            "checked_at": self.checked_at.isoformat(),
            "kind": self.kind,
            "credential": self.credential_json(),
            "staff": self.staff.as_json() if self.staff else None,
            "data": self.data.as_json(),
            "warnings": list(self.warnings),
            "error": None,
        }


@dataclass(frozen=True, slots=True)
class SyncReport:
    server: str
    root_thumbprint: str
    root_source: str  # "trust" or "tofu"
    newly_pinned: bool  # this sync pinned the root on first use
    keys: int
    status_lists: tuple[int, ...]
    roster_staff: int
    synced_at: datetime
    warnings: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "root": {"thumbprint": self.root_thumbprint, "source": self.root_source, "newly_pinned": self.newly_pinned},
            "keys": self.keys,
            "status_lists": list(self.status_lists),
            "roster_staff": self.roster_staff,
            "synced_at": self.synced_at.isoformat(),
            "warnings": list(self.warnings),
            "error": None,
        }


@dataclass
class _Trusted:
    """The verified view of a server's cache."""

    root: docs.RootKey
    keyset: docs.KeySet
    lists: dict[int, docs.StatusList] = field(default_factory=dict)
    roster: docs.Roster | None = None


class Verifier:
    """Verifies credentials against one trusted server's signed documents.

    ``base_url`` is the trusted server (None: the one synced last). ``trust`` pins the
    root key's thumbprint; without it the first sync pins the root it sees (trust on
    first use) and any later root is refused. ``offline`` never touches the network;
    ``allow_stale`` accepts documents past their expiry (the result says so).
    ``clock`` and ``fetcher`` are parameters for tests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        trust: str | None = None,
        cache_dir: Path | None = None,
        offline: bool = False,
        allow_stale: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        clock: Callable[[], datetime] | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.store = Store(cache_dir)
        if base_url is None:
            base_url = self.store.last_server()
            if base_url is None:
                raise NoServerError("No server given (--server or CHINHDANH_SERVER) and none synced before.")
        self.server = normalize_server(base_url)
        self.trust = normalize_thumbprint(trust) if trust else None
        self.offline = offline
        self.allow_stale = allow_stale
        self.clock = clock or (lambda: datetime.now(UTC))
        self.fetcher = fetcher or Fetcher(timeout=timeout, retries=retries)
        self.notices: list[tuple[str, dict[str, Any]]] = []  # (msgid, details) for people to read
        self._state = self.store.load(self.server)
        self._memo: tuple[tuple[Any, ...], _Trusted | None] | None = None
        self._dirty = False  # the state differs from the file

    # -- network -----------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.server + path

    def _fetch(self, path: str, *, etag: str | None = None, allow_404: bool = False) -> Any:
        if self.offline:
            raise NotSyncedError("Offline, and the cached data for {server} is not enough.", server=self.server)
        self._dirty = True  # whatever comes back updates the state, if only a fetch time
        return self.fetcher.get(self._url(path), etag=etag, allow_404=allow_404)

    def _text(self, body: bytes, what: str) -> str:
        try:
            return body.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise InvalidResponseError("The {what} sent by the server is not valid.", what=what) from exc

    def _root(self) -> tuple[docs.RootKey, bool]:
        """The pinned root key, pinning it now if needed; returns (root, newly pinned
        on first use). Raise RootChangedError if the server's root is not the trusted one."""
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
        answer = self._fetch(docs.ROOT_KEY_PATH)
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
                        {
                            "old": cached.kid,
                            "new": root.kid,
                        },
                    )
                )
            state.root_jwk, state.root_source = root.jwk, "trust"
            return root, False
        state.root_jwk, state.root_source = root.jwk, "tofu"
        return root, True

    def _refresh_keyset(self, root: docs.RootKey, now: datetime) -> None:
        answer = self._fetch(docs.KEYSET_PATH)
        token = self._text(answer.body, "key set")
        keyset = docs.verify_keyset(token, root, issuer=self.server)
        if now - keyset.issued_at > KEYSET_MAX_AGE + MAX_CLOCK_SKEW:
            # the server signs the key set on every request: an old one is a recording,
            # perhaps from before a stolen key was revoked
            raise RollbackError(
                "The server sent a key set signed on {signed}, older than it may be: a replay, or a wrong clock "
                "on this computer.",
                signed=keyset.issued_at.isoformat(),
            )
        previous = self._verified_keyset(root)
        if previous is not None and keyset.issued_at < previous.issued_at:
            raise RollbackError("The server sent a {what} older than the one already cached.", what="key set")
        self._state.keyset = Cached(body=token, etag=answer.etag, fetched_at=now.timestamp())

    def _refresh_jwks(self, keyset: docs.KeySet, now: datetime) -> list[str]:
        """Fetch the plain JWKS for the record and compare it with the key set; it is
        never trusted. Returns warning codes."""
        cached = self._state.jwks
        answer = self._fetch(docs.JWKS_PATH, etag=cached.etag if cached else None)
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

    def _refresh_list(self, trusted: _Trusted, number: int, now: datetime) -> bool:
        """Fetch status list ``number``; False if the server has no such list."""
        cached = self._state.status_lists.get(number)
        old = trusted.lists.get(number)
        # revalidate only while the cached token has more than half its life left:
        # a 304 does not renew its "exp", a fresh token does
        etag = None
        if cached is not None and old is not None and now < old.issued_at + (old.expires_at - old.issued_at) / 2:
            etag = cached.etag
        answer = self._fetch(docs.STATUS_LIST_PATH + str(number), etag=etag, allow_404=True)
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

    def _refresh_roster(self, trusted: _Trusted, now: datetime) -> None:
        cached = self._state.roster
        old = trusted.roster
        etag = None
        if cached is not None and old is not None and now < old.issued_at + (old.expires_at - old.issued_at) / 2:
            etag = cached.etag
        answer = self._fetch(docs.ROSTER_PATH, etag=etag)
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

    def _trusted(self) -> _Trusted | None:
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

    def _verify_cache(self) -> _Trusted | None:
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
        trusted = _Trusted(root=root, keyset=keyset)
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
                        "TRUST ON FIRST USE: the root key {kid} of {server} is now pinned. Check this thumbprint "
                        "against the one printed in the Board's official letter; next time pass it with --trust "
                        "or CHINHDANH_TRUST."
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

    def _prepare(self, now: datetime) -> tuple[_Trusted, bool]:
        """The verified cache, refreshed first when online; returns (data, whether
        the key set was fetched just now)."""
        trusted = self._trusted()
        if self.offline:
            if trusted is None:
                raise NotSyncedError(
                    "No cached keys for {server}: run `python -m verify sync` first.", server=self.server
                )
            return trusted, False
        if trusted is None:
            self.sync()
            trusted = self._trusted()
            assert trusted is not None  # noqa: S101  # sync raised otherwise
            return trusted, True
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
        return trusted, refreshed

    def _ensure_list(self, trusted: _Trusted, number: int, now: datetime) -> docs.StatusList | None:
        current = trusted.lists.get(number)
        cached = self._state.status_lists.get(number)
        if self.offline:
            return current
        if (
            current is None
            or cached is None
            or now.timestamp() - cached.fetched_at >= current.ttl_seconds
            or now >= current.expires_at
        ):
            self._refresh_list(trusted, number, now)
            self._save()
        return trusted.lists.get(number)

    def _read(self, text: str | bytes | Path) -> str:
        """The text of a token or URL, or of the QR code in an image file."""
        if isinstance(text, bytes):
            try:
                return text.decode("utf-8")
            except UnicodeDecodeError:
                return ""  # not text: malformed
        path = text if isinstance(text, Path) else _as_file(text)
        if path is None:
            if isinstance(text, str) and _FILE_NAME.search(text.strip()):
                # a token never ends like this: a mistyped file name, not a credential
                raise InputError("The file {path} does not exist.", path=text.strip()[:200])
            return str(text)
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise InputError("Cannot read the file {path}: {reason}", path=str(path), reason=exc.strerror) from exc
        from verify.qrdecode import NotAnImage, QrDecodeError, decode_qr

        try:
            return decode_qr(data)
        except NotAnImage as exc:
            if len(data) <= MAX_INPUT_CHARS:
                try:
                    return data.decode("utf-8")
                except UnicodeDecodeError:
                    pass
            raise InputError("{path} is neither an image of a card nor a text file.", path=str(path)) from exc
        except QrDecodeError as exc:
            raise InputError(
                "No QR code could be read in {path}: {reason}", path=str(path), reason=exc.message
            ) from exc

    def verify(self, token_or_url_or_path: str | bytes | Path, *, agency: str | None = None) -> VerificationResult:
        """Verify a token, a QR URL (``…/v/<token>``) or an image file of a card.

        ``agency`` (the officer's agency: a name or an email domain) checks an
        assignment: one for another agency answers ``wrong_agency``. Returns the
        result; raises a ClientError subclass when the answer cannot be decided
        (NotSyncedError, StaleDataError, UndecidableError, network and trust errors).
        """
        now = self.clock()
        text = self._read(token_or_url_or_path)
        online = not self.offline
        if len(text) > MAX_INPUT_CHARS:
            return VerificationResult(Verdict.MALFORMED, self.server, now, online)
        try:
            parsed = jose.parse_token(extract_token(text), typs=CREDENTIAL_TYPS)
        except MalformedTokenError:
            return VerificationResult(Verdict.MALFORMED, self.server, now, online)
        trusted, refreshed = self._prepare(now)
        key = trusted.keyset.keys.get(parsed.kid)
        if key is None and online and not refreshed:
            # a key made since the last refresh: ask once more before saying unknown
            root, _ = self._root()
            self._refresh_keyset(root, now)
            self._save()
            trusted = self._trusted() or trusted
            key = trusted.keyset.keys.get(parsed.kid)
        age = DataAge(
            keyset_fetched_at=_from_ts(self._state.keyset.fetched_at if self._state.keyset else None),
            keyset_expires_at=trusted.keyset.expires_at,
            roster_fetched_at=_from_ts(self._state.roster.fetched_at if self._state.roster else None),
        )

        def answer(verdict: Verdict, **more: Any) -> VerificationResult:
            return VerificationResult(verdict, self.server, now, online, data=more.pop("data", age), **more)

        if key is None:
            iat = parsed.claims.get("iat")
            if self.offline and is_timestamp(iat) and docs.ts(iat) > trusted.keyset.issued_at:
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
        except MalformedTokenError:
            return answer(Verdict.MALFORMED, kind=kind)
        card = trusted.roster.staff.get(claims["sub"]) if trusted.roster else None
        warnings = () if card is not None else ("not_in_roster",)
        if key.state == "revoked":
            return answer(Verdict.KEY_REVOKED, kind=kind, claims=claims, staff=card, warnings=warnings)
        entry = claims["status"]["status_list"]
        prefix = docs.status_list_uri(self.server, 0)[:-1]
        number_text = entry["uri"][len(prefix) :] if entry["uri"].startswith(prefix) else ""
        if not number_text.isdigit() or not 1 <= int(number_text) <= MAX_STATUS_LISTS:
            raise UndecidableError(
                "The credential names a status list ({uri}) that this server does not publish.", uri=entry["uri"][:200]
            )
        number = int(number_text)
        status_list = self._ensure_list(trusted, number, now)
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
            from verify.agency import agency_matcher

            matcher = agency_matcher(agency)
            agency_matches = matcher(claims) if matcher is not None else None
        facts = Facts(
            key_revoked=False,
            status=STATE_BY_ENTRY[entry_status],
            not_before=docs.ts(claims["nbf"]) if "nbf" in claims else None,
            expires_at=docs.ts(claims["exp"]),
            agency_matches=agency_matches,
        )
        return answer(decide(facts, now=now), kind=kind, claims=claims, staff=card, data=data, warnings=warnings)

    def _freshness(
        self, age: DataAge, now: datetime, trusted: _Trusted, status_list: docs.StatusList | None
    ) -> DataAge:
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
            status_list_fetched_at=_from_ts(cached.fetched_at) if cached else None,
            status_list_expires_at=status_list.expires_at if status_list else None,
            roster_fetched_at=age.roster_fetched_at,
            stale=bool(lapsed),
        )


def _as_file(text: str) -> Path | None:
    """``text`` as the path of an existing file, if it can only be that."""
    stripped = text.strip()
    if not stripped or len(stripped) >= MAX_INPUT_CHARS or "://" in stripped or "\n" in stripped:
        return None
    candidate = Path(stripped)
    try:
        return candidate if candidate.is_file() else None
    except (OSError, ValueError):  # a name too long or with a NUL byte: a token, not a file
        return None


def _json(body: bytes, what: str) -> Any:
    try:
        return strictjson.loads(body, max_depth=docs.MAX_DOCUMENT_DEPTH)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidResponseError("The {what} sent by the server is not valid.", what=what) from exc
