"""Compact JWS with EdDSA (Ed25519, RFC 8037): sign, parse, verify, thumbprints.

Every way an attacker-supplied token can fail to parse (size, segment count,
base64url, UTF-8, JSON, nesting depth, lone surrogates, ``alg``, ``typ``, ``kid``
shape) collapses into one
``MalformedTokenError`` raised from its cause. Signature checks raise
``BadSignatureError``; nothing here returns False.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc import jws
from joserfc.jwk import OKPKey
from joserfc.jws import JWSRegistry
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError as NaclBadSignature

from keys import strictjson
from keys.errors import BadSignatureError, MalformedTokenError

ALG = "EdDSA"
MAX_TOKEN_BYTES = 4096  # bound parsing work; a credential is about 550 characters
KID_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # a base64url SHA-256 thumbprint
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})  # keys come only from us
ED25519_SIGNATURE_BYTES = 64
MAX_JSON_DEPTH = 8  # a credential's claims nest 3 deep (status.status_list.idx)


class _EdDSARegistry(JWSRegistry):
    """Allows only EdDSA, without the RFC 9864 deprecation warning.

    The public contract fixes ``alg: EdDSA`` (RFC 8037), which RFC 9864 renames
    ``Ed25519`` with identical bytes; ordinary JOSE libraries still expect EdDSA.
    """

    def get_alg(self, name: str) -> Any:
        if name != ALG:
            return super().get_alg(name)
        return self.algorithms[name]


_REGISTRY = _EdDSARegistry(algorithms=[ALG])


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A token split and decoded, its signature not yet checked."""

    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def kid(self) -> str:
        return str(self.header["kid"])

    @property
    def typ(self) -> str:
        return str(self.header["typ"])


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly; raise MalformedTokenError.

    Only the one canonical spelling of each byte string is accepted: the unused low
    bits of the last character must be zero (RFC 4648 section 3.5). Otherwise four
    spellings of one signature would all verify, and a token would not be one text.
    """
    if not B64URL_RE.match(text) or len(text) % 4 == 1:
        raise MalformedTokenError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedTokenError("not base64url") from exc
    if b64url_encode(data) != text:
        raise MalformedTokenError("not canonical base64url")
    return data


def compact_json(value: Any) -> bytes:
    """JSON as small as it gets: no spaces, UTF-8 rather than \\u escapes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = strictjson.loads(b64url_decode(segment), max_depth=MAX_JSON_DEPTH)
    except strictjson.JsonInputError as exc:
        raise MalformedTokenError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise MalformedTokenError(f"{what} is not a JSON object")
    return value


def parse_token(token: str | bytes, *, typs: frozenset[str]) -> ParsedToken:
    """Split and decode a compact JWS whose ``typ`` is one of ``typs``.

    Returns the parsed token; raises MalformedTokenError for anything that is not a
    well-formed EdDSA token of an accepted type. The signature is not checked.
    """
    if isinstance(token, bytes):
        if len(token) > MAX_TOKEN_BYTES:
            raise MalformedTokenError("token too long")
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedTokenError("token is not ASCII") from exc
    if not isinstance(token, str):
        raise MalformedTokenError("token is not text")
    if len(token) > MAX_TOKEN_BYTES:
        raise MalformedTokenError("token too long")
    token = token.strip()
    if not token.isascii():
        raise MalformedTokenError("token is not ASCII")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedTokenError("a compact JWS has three segments")
    header = _json_object(parts[0], "header")
    if header.get("alg") != ALG:
        raise MalformedTokenError("alg must be EdDSA")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ not in typs:  # a list or object is not hashable
        raise MalformedTokenError("unexpected typ")
    kid = header.get("kid")
    if not isinstance(kid, str) or not KID_RE.match(kid):
        raise MalformedTokenError("kid is not a thumbprint")
    if FORBIDDEN_HEADERS & header.keys():
        raise MalformedTokenError("header names keys or critical extensions")
    claims = _json_object(parts[1], "payload")
    if len(b64url_decode(parts[2])) != ED25519_SIGNATURE_BYTES:
        raise MalformedTokenError("signature has the wrong length")
    return ParsedToken(raw=token, header=header, claims=claims)


def verify_signature(parsed: ParsedToken, public_key: OKPKey) -> None:
    """Return if the token's signature verifies under ``public_key``; else raise
    BadSignatureError.

    ``parse_token`` has already done every check of RFC 7515 section 5.2 but the
    signature itself, strictly; handing the token back to the JOSE library would
    parse it a second time, which was 40 % of a verification's CPU. What is left is
    one Ed25519 check over the signing input, done by libsodium (PyNaCl): 0.12 ms
    here against OpenSSL's 0.27 ms, and it refuses small-order and non-canonical
    points, which OpenSSL lets through. A genuine signature is kept, by key and token
    (``signature_verifies``).
    """
    raw_key = public_key.public_key
    if not isinstance(raw_key, Ed25519PublicKey):
        raise BadSignatureError("not an Ed25519 key")
    signature_verifies(raw_key.public_bytes_raw(), parsed.raw)


# An Ed25519 check is a pure function of the key's 32 bytes and the token's text (its
# signing input and signature): the last tokens found genuine are kept, so a card
# scanned again is not checked again under the same key. Only a signature that
# verifies is kept (a refusal raises, and lru_cache keeps no exception): forged tokens
# are checked each time and never push a genuine one out. What a token stands for (the
# key's state, the credential's, the dates) is not kept: that is read at every
# verification. A token is at most MAX_TOKEN_BYTES: the cache is bounded.
VERIFIED_SIGNATURES = 1024


@lru_cache(maxsize=VERIFIED_SIGNATURES)
def signature_verifies(public_key: bytes, token: str) -> bool:
    """True if ``token``'s signature (a compact JWS that ``parse_token`` accepted)
    verifies under the raw Ed25519 ``public_key``; else raise BadSignatureError."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    signed = b64url_decode(signature_b64) + f"{header_b64}.{payload_b64}".encode("ascii")
    try:
        crypto_sign_open(signed, public_key)
    except (NaclBadSignature, ValueError) as exc:
        raise BadSignatureError("signature does not verify") from exc
    return True


def sign(header: dict[str, Any], claims: dict[str, Any], private_key: OKPKey) -> str:
    """Sign ``claims`` as compact JSON under ``header`` (which must name alg EdDSA)."""
    if header.get("alg") != ALG:
        raise ValueError("only EdDSA is signed here")
    return jws.serialize_compact(header, compact_json(claims), private_key, algorithms=[ALG], registry=_REGISTRY)


def thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of an OKP public JWK, base64url."""
    return str(OKPKey.import_key(public_jwk).thumbprint())


def import_public(public_jwk: dict[str, Any]) -> OKPKey:
    return OKPKey.import_key(public_jwk)


def generate_private() -> OKPKey:
    return OKPKey.generate_key("Ed25519", private=True)
