"""The signed documents the client trusts, and how it checks each one.

Trust flows one way: the root key (its thumbprint pinned) -> the key-set document it
signs (``keyset+jwt``) -> the signing keys listed there -> the status lists
(``statuslist+jwt``) and the roster (``roster+jwt``) they sign. The plain JWKS is
never a source of trust. Every check raises: ``InvalidResponseError`` for what does
not parse, ``TrustError`` for a signature or key that cannot be trusted.

Documents are larger than a credential (``keys.jose.parse_token`` caps tokens at
4 KiB), so they are parsed here with their own bound and the same header rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc.jwk import OKPKey

from keys import jose, strictjson
from keys.contract import KEYSET_TYP, ROSTER_TYP, STATUS_LIST_TYP, status_list_uri
from keys.errors import N_, BadSignatureError, MalformedTokenError
from keys.statuslist import BITS, decode_lst
from keys.text import display_phone
from verify.client.errors import InvalidResponseError, RootChangedError, TrustError
from verify.core.keyset import KEY_STATES, TrustedKey

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024  # a roster of tens of thousands of people fits
MAX_DOCUMENT_DEPTH = 8  # a key set or roster nests 3 deep; deeper JSON is refused unparsed
STAFF_STATES = frozenset({"active", "suspended", "departed"})
MAX_ROSTER_FIELD = 254  # the longest registry field (an email address)
# registry.channels.CONTACT_ORDER's kinds: the channels one can call or write to
CHANNEL_KINDS = frozenset({"phone", "email", "url"})
MAX_CHANNEL_VALUE = 300  # registry.channels.MAX_STORED
MAX_CHANNEL_LABEL = 200  # registry.channels.MAX_LABEL
MAX_CHANNELS = 100  # the Centre lists a handful; a bound on what a roster may hold
_X_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # an Ed25519 public key, base64url


INVALID = N_("The {what} sent by the server is not valid.")


def _invalid(what: str) -> InvalidResponseError:
    """A signed document that is not what the server sends (``what`` names it)."""
    return InvalidResponseError(INVALID, what=what)


def _listed(claims: dict[str, Any], name: str, issuer: str, what: str) -> list[Any]:
    """The list claim ``name`` of a document of ``issuer``; raise InvalidResponseError."""
    if claims.get("iss") != issuer or not isinstance(claims.get(name), list):
        raise _invalid(what)
    return list(claims[name])


def ts(value: int) -> datetime:
    """The moment of a NumericDate; raise ValueError for one no calendar holds (a
    crafted number such as 10**20)."""
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError("a time out of range") from exc


def _int(claims: dict[str, Any], name: str, what: str) -> int:
    value = claims.get(name)
    if type(value) is not int:
        raise _invalid(what)
    return value


def _time(claims: dict[str, Any], name: str, what: str) -> datetime:
    try:
        return ts(_int(claims, name, what))
    except ValueError as exc:
        raise _invalid(what) from exc


def parse_document(token: str, *, typ: str, what: str) -> jose.ParsedToken:
    """Split and decode a signed document of type ``typ``; raise InvalidResponseError."""
    if len(token) > MAX_DOCUMENT_BYTES or not token.isascii():
        raise _invalid(what)
    parts = token.strip().split(".")
    try:
        if len(parts) != 3:
            raise MalformedTokenError("a compact JWS has three segments")
        header = strictjson.loads(jose.b64url_decode(parts[0]), max_depth=MAX_DOCUMENT_DEPTH)
        claims = strictjson.loads(jose.b64url_decode(parts[1]), max_depth=MAX_DOCUMENT_DEPTH)
        signature = jose.b64url_decode(parts[2])
    except (MalformedTokenError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: JSON nested thousands deep, from whoever answers in the server's name
        raise _invalid(what) from exc
    if (
        not isinstance(header, dict)
        or not isinstance(claims, dict)
        or header.get("alg") != jose.ALG
        or header.get("typ") != typ
        or not isinstance(header.get("kid"), str)
        or not jose.KID_RE.match(header["kid"])
        or jose.FORBIDDEN_HEADERS & header.keys()
        or len(signature) != jose.ED25519_SIGNATURE_BYTES
    ):
        raise _invalid(what)
    return jose.ParsedToken(raw=token.strip(), header=header, claims=claims)


def _check_signature(parsed: jose.ParsedToken, key: OKPKey, what: str) -> None:
    try:
        jose.verify_signature(parsed, key)
    except (BadSignatureError, MalformedTokenError) as exc:
        raise TrustError(
            "The signature of the {what} does not verify: it was altered or forged, perhaps in transit.", what=what
        ) from exc


@dataclass(frozen=True, slots=True)
class RootKey:
    """The trust anchor: the root's public key, whose thumbprint is ``kid``."""

    kid: str
    jwk: dict[str, str]
    key: OKPKey


def root_from_jwk(value: Any) -> RootKey:
    """Check the shape of a root public JWK and compute its thumbprint; raise
    InvalidResponseError. Whether to trust it is the caller's decision (the pin)."""
    what = "root key"
    if not isinstance(value, dict):
        raise _invalid(what)
    jwk = {name: value.get(name) for name in ("kty", "crv", "x")}
    if jwk["kty"] != "OKP" or jwk["crv"] != "Ed25519" or not isinstance(jwk["x"], str) or not _X_RE.match(jwk["x"]):
        raise _invalid(what)
    clean = {k: str(v) for k, v in jwk.items()}
    try:
        key = jose.import_public(clean)
    except ValueError as exc:
        raise _invalid(what) from exc
    return RootKey(kid=jose.thumbprint(clean), jwk=clean, key=key)


@dataclass(frozen=True, slots=True)
class Signed:
    """A signed document as the server sent it (``raw``), and the window it is valid
    in: from ``issued_at`` (its ``iat``) to ``expires_at`` (its ``exp``)."""

    raw: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class KeySet(Signed):
    keys: dict[str, TrustedKey]
    version: int = 0  # one more at each signature by the root; 0 for a key set that names none

    def signer(self, parsed: jose.ParsedToken, what: str) -> TrustedKey:
        """The key that may have signed a document; raise TrustError if it is not a
        key the root lists or if it is revoked (a stolen key signs nothing we trust)."""
        key = self.keys.get(parsed.kid)
        if key is None or key.revoked:
            raise TrustError("The {what} is signed by a key that the root key does not vouch for.", what=what)
        return key


def verify_keyset(token: str, root: RootKey, *, issuer: str) -> KeySet:
    """The key set, verified under the pinned root. Raise TrustError (signed by
    another root, or altered) or InvalidResponseError."""
    what = "key set"
    parsed = parse_document(token, typ=KEYSET_TYP, what=what)
    if parsed.kid != root.kid:
        raise RootChangedError(
            "The server's root key is {kid}, not the trusted root {root}. Refusing its keys.",
            kid=parsed.kid,
            root=root.kid,
        )
    _check_signature(parsed, root.key, what)
    claims = parsed.claims
    keys: dict[str, TrustedKey] = {}
    for entry in _listed(claims, "keys", issuer, what):
        if not isinstance(entry, dict) or entry.get("state") not in KEY_STATES:
            raise _invalid(what)
        signing = root_from_jwk(entry)  # same shape rules as the root's own JWK
        if entry.get("kid") != signing.kid:
            # a kid is the hash of its key: a list where they differ is not ours
            raise _invalid(what)
        keys[signing.kid] = TrustedKey(kid=signing.kid, state=str(entry["state"]), key=signing.key)
    version = claims.get("version", 0)
    if type(version) is not int or not 0 <= version < 2**53:
        raise _invalid(what)
    issued_at, expires_at = _time(claims, "iat", what), _time(claims, "exp", what)
    if expires_at <= issued_at:
        raise _invalid(what)
    return KeySet(raw=parsed.raw, issued_at=issued_at, expires_at=expires_at, keys=keys, version=version)


@dataclass(frozen=True, slots=True)
class StatusList(Signed):
    number: int
    ttl_seconds: int
    bits: bytes


def verify_status_list(token: str, keyset: KeySet, *, issuer: str, number: int) -> StatusList:
    """Status list ``number``, verified under a trusted signing key with the trusted
    issuer and the subject it must have. Raise TrustError or InvalidResponseError."""
    what = "status list"
    parsed = parse_document(token, typ=STATUS_LIST_TYP, what=what)
    _check_signature(parsed, keyset.signer(parsed, what).key, what)
    claims = parsed.claims
    body = claims.get("status_list")
    if (
        claims.get("iss") != issuer
        or claims.get("sub") != status_list_uri(issuer, number)
        or not isinstance(body, dict)
        or body.get("bits") != BITS
    ):
        raise _invalid(what)
    try:
        bits = decode_lst(body.get("lst"))  # type: ignore[arg-type]  # decode_lst checks the type
    except MalformedTokenError as exc:
        raise _invalid(what) from exc
    issued_at, expires_at = _time(claims, "iat", what), _time(claims, "exp", what)
    ttl = _int(claims, "ttl", what)
    if not 0 < ttl <= (expires_at - issued_at).total_seconds():
        # a list cannot be reused for longer than it is valid
        raise _invalid(what)
    return StatusList(
        raw=parsed.raw, number=number, issued_at=issued_at, expires_at=expires_at, ttl_seconds=ttl, bits=bits
    )


@dataclass(frozen=True, slots=True)
class RosterCard:
    """What the roster says about one staff member."""

    code: str
    name: str
    title: str
    unit: str
    status: str  # active, suspended or departed
    phone: str | None
    email: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "title": self.title,
            "unit": self.unit,
            "status": self.status,
            "phone": self.phone,
            "email": self.email,
        }


@dataclass(frozen=True, slots=True)
class OfficialChannel:
    """One of the Centre's official channels to call back on, as the roster lists
    it: ``kind`` phone (E.164), email or url (``host/path``, without its scheme)."""

    kind: str
    value: str
    label: str

    @property
    def display(self) -> str:
        """The value as people write it: a Vietnamese phone the national way."""
        return display_phone(self.value) if self.kind == "phone" else self.value

    def as_json(self) -> dict[str, str]:
        """The server's ``official_contacts`` entries (verify.answers.channel_json)."""
        return {"kind": self.kind, "value": self.value, "display": self.display, "label": self.label}


@dataclass(frozen=True, slots=True)
class Roster(Signed):
    staff: dict[str, RosterCard]
    official_contacts: tuple[OfficialChannel, ...] = ()


def _text(entry: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = entry.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ROSTER_FIELD:
        raise _invalid("roster")
    return value


def _channels(value: Any) -> tuple[OfficialChannel, ...]:
    """The roster's ``official_contacts`` claim, in the server's order (phones first).
    Raise InvalidResponseError for one that is not a list of well-formed channels; a
    channel of a kind this client does not know is left out (a newer server may list
    more kinds than these)."""
    if not isinstance(value, list) or len(value) > MAX_CHANNELS:
        raise _invalid("roster")
    channels = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("kind"), str):
            raise _invalid("roster")
        text, label = entry.get("value"), entry.get("label")
        if not isinstance(text, str) or not text or len(text) > MAX_CHANNEL_VALUE:
            raise _invalid("roster")
        if not isinstance(label, str) or len(label) > MAX_CHANNEL_LABEL:
            raise _invalid("roster")
        if entry["kind"] in CHANNEL_KINDS:
            channels.append(OfficialChannel(kind=entry["kind"], value=text, label=label))
    return tuple(channels)


def verify_roster(token: str, keyset: KeySet, *, issuer: str) -> Roster:
    """The roster, verified like a status list. Raise TrustError or InvalidResponseError."""
    what = "roster"
    parsed = parse_document(token, typ=ROSTER_TYP, what=what)
    _check_signature(parsed, keyset.signer(parsed, what).key, what)
    claims = parsed.claims
    staff: dict[str, RosterCard] = {}
    for entry in _listed(claims, "staff", issuer, what):
        if not isinstance(entry, dict) or entry.get("status") not in STAFF_STATES:
            raise _invalid(what)
        card = RosterCard(
            code=str(_text(entry, "code")),
            name=str(_text(entry, "name")),
            title=str(_text(entry, "title")),
            unit=str(_text(entry, "unit")),
            status=str(entry["status"]),
            phone=_text(entry, "phone", required=False),
            email=_text(entry, "email", required=False),
        )
        staff[card.code] = card
    return Roster(
        raw=parsed.raw,
        issued_at=_time(claims, "iat", what),
        expires_at=_time(claims, "exp", what),
        staff=staff,
        # absent from a roster signed before the server listed its channels
        official_contacts=_channels(claims["official_contacts"]) if "official_contacts" in claims else (),
    )
