"""The offline root, as TUF and Sigstore keep theirs: its private key lives in a file
the operator keeps off the server, and the database holds only its public key and
the key-set documents it signed.

``new_root`` makes the key (the caller writes it with ``write_root_file``),
``sign_keyset`` signs the current signing keys once, with its own ``iat``/``exp``
and a version one above the last, and stores the document; ``served_keyset`` is
what the web server hands out, as it was stored (no worker ever opens the root).
``export_root`` moves a root that an older version sealed in the database out to a
file. Every function takes the session first and never commits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from keys import jose
from keys.contract import KEYSET_TYP
from keys.crypto import MasterKey
from keys.errors import (
    ActiveKeyExistsError,
    KeySetDaysError,
    NoKeySetError,
    RootFileError,
    RootMismatchError,
)
from keys.models import KeyPurpose, KeyState, SignedKeySet, SigningKey
from keys.service import active_key, find_active, jwk_entry, list_keys, sealing_aad

DEFAULT_KEYSET_DAYS = 30
MAX_KEYSET_DAYS = 366
KEYSET_WARNING = timedelta(days=7)  # the dashboard and /readyz warn this long before exp
ROOT_FILE_MODE = 0o600
MAX_ROOT_FILE_BYTES = 4096


def _public_jwk(private: Ed25519PrivateKey) -> dict[str, str]:
    value = OKPKey.import_key(private.public_key()).as_dict(private=False)
    return {k: str(v) for k, v in value.items() if k in ("kty", "crv", "x")}


def thumbprint(private: Ed25519PrivateKey) -> str:
    """The RFC 7638 thumbprint of the key's public half: the root's kid."""
    return jose.thumbprint(_public_jwk(private))


def new_root(
    session: Session, *, now: datetime, rotate: bool = False, private: Ed25519PrivateKey | None = None
) -> tuple[SigningKey, Ed25519PrivateKey]:
    """A new active root whose row holds only the public key; returns it with the
    private key, for the caller to write to a file and forget (``private``: a key
    read from an existing file instead of a fresh one). Raise ActiveKeyExistsError if
    a root is active and ``rotate`` is not asked (then the old root is retired)."""
    old = find_active(session, KeyPurpose.ROOT)
    if old is not None:
        if not rotate:
            raise ActiveKeyExistsError(
                "an active {purpose} key exists; rotate it instead", params={"purpose": KeyPurpose.ROOT.value}
            )
        old.state = KeyState.RETIRED
        old.retired_at = now
    private = private or Ed25519PrivateKey.generate()
    public_jwk = _public_jwk(private)
    key = SigningKey(
        kid=jose.thumbprint(public_jwk),
        purpose=KeyPurpose.ROOT,
        state=KeyState.ACTIVE,
        public_jwk=public_jwk,
        private_key_sealed=None,
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key, private


def pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_root_file(path: Path, private: Ed25519PrivateKey) -> None:
    """Write the private key as PKCS#8 PEM to a new file readable by its owner only
    (0600 from the moment it exists); raise RootFileError if the file exists or
    cannot be made. Nothing is left behind on failure."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, ROOT_FILE_MODE)
    except FileExistsError as exc:
        raise RootFileError("{path} exists: the root file is never overwritten", params={"path": str(path)}) from exc
    except OSError as exc:
        raise RootFileError("cannot create {path}: {why}", params={"path": str(path), "why": exc.strerror}) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem(private))
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise RootFileError("cannot write {path}: {why}", params={"path": str(path), "why": exc.strerror}) from exc


def read_root_file(path: Path) -> Ed25519PrivateKey:
    """The root's private key from its file; raise RootFileError."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ROOT_FILE_BYTES + 1)
    except OSError as exc:
        raise RootFileError("cannot read {path}: {why}", params={"path": str(path), "why": exc.strerror}) from exc
    try:
        if len(data) > MAX_ROOT_FILE_BYTES:
            raise ValueError("too large")
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise RootFileError("{path} is not a root key file", params={"path": str(path)}) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise RootFileError("{path} is not a root key file", params={"path": str(path)})
    return private


def current_key_states(session: Session) -> dict[str, str]:
    """{kid: state} of every signing key, as a key set signed now would list them."""
    return {k.kid: k.state.value for k in list_keys(session) if k.purpose is KeyPurpose.SIGNING}


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def sign_keyset(
    session: Session, private: Ed25519PrivateKey, *, issuer: str, now: datetime, days: int = DEFAULT_KEYSET_DAYS
) -> SignedKeySet:
    """Sign the current signing keys with the root file's key and store the document
    (version one above the last). Raise RootMismatchError if the key is not the
    active root's, NoActiveKeyError without a root, KeysError for ``days`` out of
    range (KeySetDaysError)."""
    if not 1 <= days <= MAX_KEYSET_DAYS:
        raise KeySetDaysError("--days must be between 1 and {most}", params={"most": MAX_KEYSET_DAYS}, field="days")
    root = active_key(session, KeyPurpose.ROOT)
    kid = thumbprint(private)
    if kid != root.kid:
        raise RootMismatchError(
            "the root file holds key {kid}, not the active root {root}", params={"kid": kid, "root": root.kid}
        )
    version = (session.scalar(select(func.max(SignedKeySet.version))) or 0) + 1
    signing = [k for k in list_keys(session) if k.purpose is KeyPurpose.SIGNING]
    iat = now.replace(microsecond=0)
    exp = iat + timedelta(days=days)
    claims = {
        "iss": issuer,
        "iat": int(iat.timestamp()),
        "exp": int(exp.timestamp()),
        "version": version,
        "keys": [
            {
                **jwk_entry(k),
                "state": k.state.value,
                "created_at": _ts(k.created_at),
                "retired_at": _ts(k.retired_at),
                "revoked_at": _ts(k.revoked_at),
            }
            for k in signing
        ],
    }
    token = jose.sign({"alg": jose.ALG, "typ": KEYSET_TYP, "kid": kid}, claims, OKPKey.import_key(private))
    document = SignedKeySet(
        version=version,
        root_kid=kid,
        token=token,
        key_states={k.kid: k.state.value for k in signing},
        issued_at=iat,
        expires_at=exp,
    )
    session.add(document)
    session.flush()
    return document


def latest_keyset(session: Session) -> SignedKeySet | None:
    return session.scalars(select(SignedKeySet).order_by(SignedKeySet.version.desc()).limit(1)).first()


def served_keyset(session: Session) -> SignedKeySet:
    """The newest signed key set, served as it is; raise NoKeySetError if none
    (or if it was signed by a root that is no longer the active one)."""
    document = latest_keyset(session)
    root = find_active(session, KeyPurpose.ROOT)
    if document is None or root is None or document.root_kid != root.kid:
        raise NoKeySetError("no key set is signed yet: run `keys root sign --root FILE`")
    return document


@dataclass(frozen=True, slots=True)
class KeySetHealth:
    """What an operator must know of the served key set: whether there is one,
    when it expires, and whether it lists the signing keys as they are now."""

    signed: bool
    expires_at: datetime | None = None
    expired: bool = False
    expiring: bool = False  # within KEYSET_WARNING of its exp
    stale: bool = False  # a key was made, retired or revoked since it was signed
    version: int | None = None

    @property
    def ok(self) -> bool:
        return self.signed and not (self.expired or self.expiring or self.stale)


def keyset_health(session: Session, *, now: datetime) -> KeySetHealth:
    try:
        document = served_keyset(session)
    except NoKeySetError:
        return KeySetHealth(signed=False)
    return KeySetHealth(
        signed=True,
        expires_at=document.expires_at,
        expired=now >= document.expires_at,
        expiring=now < document.expires_at <= now + KEYSET_WARNING,
        stale=document.key_states != current_key_states(session),
        version=document.version,
    )


def sealed_roots(session: Session) -> list[SigningKey]:
    """Root keys whose private key an older version sealed in the database."""
    return list(
        session.scalars(
            select(SigningKey).where(SigningKey.purpose == KeyPurpose.ROOT, SigningKey.private_key_sealed.is_not(None))
        )
    )


def export_root(session: Session, master: MasterKey) -> Ed25519PrivateKey:
    """Open the active root's sealed private key and clear the sealed column of every
    root (retired ones too: none is needed any more); returns the key for the caller
    to write to a file before committing. Raise NoActiveKeyError without a root,
    RootFileError if the active root is not sealed here (exported already)."""
    root = active_key(session, KeyPurpose.ROOT)
    if root.private_key_sealed is None:
        raise RootFileError("the root key is not in the database (exported already?)")
    raw = master.open(root.private_key_sealed, sealing_aad(root.kid))
    private = Ed25519PrivateKey.from_private_bytes(raw)
    if thumbprint(private) != root.kid:  # pragma: no cover - the AAD binds the blob to its kid
        raise RootMismatchError("the sealed root does not match its public key")
    session.execute(
        update(SigningKey)
        .where(SigningKey.purpose == KeyPurpose.ROOT)
        .values(private_key_sealed=None)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return private
