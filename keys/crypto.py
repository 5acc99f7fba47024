"""Encryption at rest of private keys and secrets under the master key (AES-256-GCM)."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys.errors import MasterKeyError

MASTER_KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM standard nonce; random per encryption
DERIVED_KEY_BYTES = 32


class MasterKey:
    """The key-encryption key. ``seal`` and ``open`` bind each blob to its purpose
    through associated data, so a sealed value cannot be moved to another row."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != MASTER_KEY_BYTES:
            raise MasterKeyError(f"the master key must be {MASTER_KEY_BYTES} bytes")
        self._aead = AESGCM(raw)
        self._raw = raw

    @classmethod
    def from_b64(cls, text: str) -> MasterKey:
        """Parse base64 (standard or URL-safe) of 32 bytes; raise MasterKeyError."""
        cleaned = text.strip()
        try:
            raw = base64.b64decode(cleaned.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MasterKeyError("the master key is not valid base64") from exc
        return cls(raw)

    @staticmethod
    def generate_b64() -> str:
        return base64.b64encode(os.urandom(MASTER_KEY_BYTES)).decode()

    def derive(self, label: bytes) -> bytes:
        """A 32-byte key for one purpose, derived with HKDF-SHA256 (RFC 5869) under the
        distinct ``label`` (its ``info``): independent of the sealing key and of any other
        label's key, computed when needed and never stored."""
        return HKDF(algorithm=hashes.SHA256(), length=DERIVED_KEY_BYTES, salt=None, info=label).derive(self._raw)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt; returns nonce || ciphertext+tag."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        """Decrypt what ``seal`` made with the same ``aad``; raise MasterKeyError."""
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError) as exc:
            raise MasterKeyError(
                "a stored secret does not open with this master key (wrong CHINHDANH_MASTER_KEY?)"
            ) from exc
