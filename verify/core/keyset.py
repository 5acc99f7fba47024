"""A signing key as the root-signed key set lists it: its id, its state and its public
key. The offline client keeps its key set as these, and a receipt checker, the
server's or the client's, asks for one by ``kid``."""

from __future__ import annotations

from dataclasses import dataclass

from joserfc.jwk import OKPKey

KEY_STATES = frozenset({"active", "retired", "revoked"})  # keys.models.KeyState's values


@dataclass(frozen=True, slots=True)
class TrustedKey:
    kid: str
    state: str  # one of KEY_STATES
    key: OKPKey

    @property
    def revoked(self) -> bool:
        """Revoked as compromised: whatever it signed vouches for nothing."""
        return self.state == "revoked"
