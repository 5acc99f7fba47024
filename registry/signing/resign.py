"""What the ``keys`` commands do with the served key set after a key change: re-sign
it with the root file given as ``--root FILE`` in the same unit of work, or warn, on
stderr, precisely what offline verifiers will see until ``keys root sign`` runs.

The root file is read before any change, so a wrong or unreadable file changes
nothing; the key it holds lives in this command's memory only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from keys import root
from keys.models import SignedKeySet, SigningKey
from registry.platform.cli import actor
from registry.platform.clock import now
from registry.platform.config import base_url
from registry.signing import service as signing

SIGN_HINT = "flask --app app keys root sign --root FILE"


def key_json(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "purpose": key.purpose.value,
        "state": key.state.value,
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


def keyset_json(document: SignedKeySet) -> dict[str, Any]:
    return {
        "version": document.version,
        "root": document.root_kid,
        "issued_at": document.issued_at.isoformat(),
        "expires_at": document.expires_at.isoformat(),
    }


def read(root_file: Path | None) -> Ed25519PrivateKey | None:
    """The root's private key from ``--root FILE``, or None when not given; raise
    keys' RootFileError."""
    return root.read_root_file(root_file) if root_file is not None else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The served key set after a key change: re-signed (``document``) or stale."""

    document: SignedKeySet | None

    def json(self) -> dict[str, Any]:
        return {
            "keyset": keyset_json(self.document) if self.document else None,
            "keyset_stale": self.document is None,
        }

    def text(self) -> str:
        if self.document is None:
            return ""
        return f"\nkey set re-signed: version {self.document.version}, valid until {self.document.expires_at:%Y-%m-%d}"


def stale_warning(kid: str, what: str) -> str:
    """Exactly what offline verifiers see while the served key set predates the change."""
    if what == "revoked":
        return (
            f"warning: the served key set (/api/v1/keyset) still lists key {kid} as it was before this revocation: "
            "offline verifiers (python -m verify) keep accepting what it signed until the key set is signed again "
            f"with `{SIGN_HINT}`. Online checks on this server answer key_revoked at once."
        )
    return (
        f"warning: the served key set (/api/v1/keyset) does not list the new key {kid}: until the key set is signed "
        f"again with `{SIGN_HINT}`, offline verifiers (python -m verify) answer unknown_key for credentials it signs "
        "and refuse the status lists and the roster it signs, so their sync fails. Online checks on this server are "
        "not affected."
    )


def after_change(session: Session, private: Ed25519PrivateKey | None, *, changed: str, what: str) -> Outcome:
    """Re-sign the key set with ``private`` (from ``--root``), or warn on stderr that
    the served one is now stale for key ``changed`` (``what``: new or revoked)."""
    if private is not None:
        document = signing.sign_keyset(session, private, actor=actor(), issuer=base_url(), now=now())
        return Outcome(document)
    health = root.keyset_health(session, now=now())
    if not health.signed:
        click.echo(f"warning: no key set is signed yet, so offline verifiers cannot sync: run `{SIGN_HINT}`.", err=True)
    elif health.stale:
        click.echo(stale_warning(changed, what), err=True)
    return Outcome(None)
