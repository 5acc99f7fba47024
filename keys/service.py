"""Key lifecycle and signing: generate, rotate, revoke, list; the JWKS. The root and
the key-set document it signs are ``keys.root``: no root private key comes here.

Every function takes the SQLAlchemy session first and never commits; the caller owns
the unit of work. Private keys are opened with the master key only to sign.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from keys import jose
from keys.crypto import MasterKey
from keys.errors import (
    ActiveKeyExistsError,
    KeyNotFoundError,
    KeyStateError,
    NoActiveKeyError,
)
from keys.models import KEY_TRANSITIONS, KeyPurpose, KeyState, SigningKey

_private_cache: dict[str, OKPKey] = {}
_public_cache: dict[str, OKPKey] = {}
_cache_lock = threading.Lock()


def sealing_aad(kid: str) -> bytes:
    return b"chinhdanh:signing-key:" + kid.encode()


def _new_key(session: Session, master: MasterKey, purpose: KeyPurpose, now: datetime) -> SigningKey:
    private = jose.generate_private()
    public_jwk = {k: str(v) for k, v in private.as_dict(private=False).items() if k in ("kty", "crv", "x")}
    kid = jose.thumbprint(public_jwk)
    raw_private = private.private_key.private_bytes_raw()  # type: ignore[union-attr]
    key = SigningKey(
        kid=kid,
        purpose=purpose,
        state=KeyState.ACTIVE,
        public_jwk=public_jwk,
        private_key_sealed=master.seal(raw_private, sealing_aad(kid)),
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key


def find_active(session: Session, purpose: KeyPurpose) -> SigningKey | None:
    return session.scalars(
        select(SigningKey).where(SigningKey.purpose == purpose, SigningKey.state == KeyState.ACTIVE)
    ).first()


def active_key(session: Session, purpose: KeyPurpose = KeyPurpose.SIGNING) -> SigningKey:
    """The key that signs now; raise NoActiveKeyError if there is none."""
    key = find_active(session, purpose)
    if key is None:
        if purpose is KeyPurpose.ROOT:
            raise NoActiveKeyError("no active root key: run `keys root generate`", code="no_root_key")
        raise NoActiveKeyError("no active signing key: run `keys generate`", code="no_signing_key")
    return key


def generate_key(session: Session, master: MasterKey, *, now: datetime) -> SigningKey:
    """Create the first active signing key; raise ActiveKeyExistsError if one is
    active already (replacing it is ``rotate_key``). The root is ``keys.root``'s."""
    purpose = KeyPurpose.SIGNING
    if find_active(session, purpose) is not None:
        raise ActiveKeyExistsError(
            "an active {purpose} key exists; rotate it instead", params={"purpose": purpose.value}
        )
    return _new_key(session, master, purpose, now)


def rotate_key(session: Session, master: MasterKey, *, now: datetime) -> tuple[SigningKey, SigningKey | None]:
    """Make a new active signing key and retire the previous one, which keeps
    verifying what it signed. Returns (new, retired-or-None)."""
    purpose = KeyPurpose.SIGNING
    old = find_active(session, purpose)
    if old is not None:
        _transition(old, KeyState.RETIRED)
        old.retired_at = now
        session.flush()
    return _new_key(session, master, purpose, now), old


def _transition(key: SigningKey, to: KeyState) -> None:
    if to not in KEY_TRANSITIONS[key.state]:
        raise KeyStateError(
            "key {kid} is {state}; it cannot become {to}",
            params={"kid": key.kid, "state": key.state.value, "to": to.value},
        )
    key.state = to


def get_key(session: Session, kid: str) -> SigningKey:
    key = session.scalars(select(SigningKey).where(SigningKey.kid == kid)).first()
    if key is None:
        raise KeyNotFoundError("no key with kid {kid}", field="kid", params={"kid": kid})
    return key


def find_key(session: Session, kid: str) -> SigningKey | None:
    return session.scalars(select(SigningKey).where(SigningKey.kid == kid)).first()


def revoke_key(session: Session, kid: str, *, now: datetime, reason: str) -> SigningKey:
    """Mark a key compromised: every token it signed then answers ``key_revoked`` and
    it leaves the JWKS. Raise KeyNotFoundError or KeyStateError."""
    key = get_key(session, kid)
    if key.purpose is KeyPurpose.ROOT:
        raise KeyStateError(
            "key {kid} is the root: it is replaced offline (`keys root generate --rotate`), never revoked here",
            params={"kid": key.kid},
            code="root_key_action",
        )
    _transition(key, KeyState.REVOKED)
    key.revoked_at = now
    key.revoked_reason = reason
    session.flush()
    return key


def list_keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.id)))


def private_key(key: SigningKey, master: MasterKey) -> OKPKey:
    """The opened private key, cached per process (raise MasterKeyError)."""
    with _cache_lock:
        cached = _private_cache.get(key.kid)
    if cached is not None:
        return cached
    if key.private_key_sealed is None or key.purpose is not KeyPurpose.SIGNING:
        raise KeyStateError("key {kid} does not sign here", params={"kid": key.kid, "state": key.state.value})
    raw = master.open(key.private_key_sealed, sealing_aad(key.kid))
    opened = OKPKey.import_key(Ed25519PrivateKey.from_private_bytes(raw))
    with _cache_lock:
        _private_cache[key.kid] = opened
    return opened


def public_key(kid: str, public_jwk: dict[str, Any]) -> OKPKey:
    """The public key for ``kid``, cached per process (a kid is a hash of its key)."""
    cached = _public_cache.get(kid)
    if cached is None:
        cached = jose.import_public(public_jwk)
        with _cache_lock:
            _public_cache[kid] = cached
    return cached


def sign_with_active(
    session: Session, master: MasterKey, *, typ: str, claims: dict[str, Any]
) -> tuple[str, SigningKey]:
    """Sign ``claims`` with the active signing key; record the token's expiry on the
    key so a retired key stays published while anything it signed is still valid."""
    key = active_key(session)
    token = jose.sign({"alg": jose.ALG, "typ": typ, "kid": key.kid}, claims, private_key(key, master))
    exp = claims.get("exp")
    if isinstance(exp, int):
        expiry = datetime.fromtimestamp(exp, UTC)
        if key.last_expiry is None or expiry > key.last_expiry:
            key.last_expiry = expiry
    return token, key


def _published(key: SigningKey, now: datetime) -> bool:
    if key.purpose is not KeyPurpose.SIGNING or key.state is KeyState.REVOKED:
        return False
    if key.state is KeyState.ACTIVE:
        return True
    return key.last_expiry is not None and key.last_expiry > now


def jwk_entry(key: SigningKey) -> dict[str, str]:
    return {**key.public_jwk, "kid": key.kid, "use": "sig", "alg": jose.ALG}


def jwks(session: Session, *, now: datetime) -> dict[str, list[dict[str, str]]]:
    """The JWKS: active signing keys and retired ones still covering a valid token.
    A revoked key never appears."""
    return {"keys": [jwk_entry(k) for k in list_keys(session) if _published(k, now)]}


def reseal_keys(session: Session, old: MasterKey, new: MasterKey) -> int:
    """Re-encrypt every stored private key from ``old`` to ``new`` in the caller's
    transaction (``keys reseal``); raise MasterKeyError if ``old`` does not open one.
    Returns how many. A key without a stored private key (an offline root) is skipped."""
    count = 0
    for key in list_keys(session):
        if key.private_key_sealed:
            aad = sealing_aad(key.kid)
            key.private_key_sealed = new.seal(old.open(key.private_key_sealed, aad), aad)
            count += 1
    session.flush()
    return count
