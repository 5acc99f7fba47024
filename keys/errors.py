"""The one exception family of ``keys``. Each error has a stable snake_case ``code``."""

from __future__ import annotations


class KeysError(Exception):
    """Base of every error raised by ``keys``."""

    code = "keys_error"


class MalformedTokenError(KeysError):
    """The token cannot be parsed: size, encoding, JSON, header or claim shape."""

    code = "malformed"


class UnknownKeyError(KeysError):
    """The token names a ``kid`` that no key of ours has."""

    code = "unknown_key"


class BadSignatureError(KeysError):
    """The signature does not verify under the key the token names."""

    code = "bad_signature"


class KeyNotFoundError(KeysError):
    code = "key_not_found"


class NoActiveKeyError(KeysError):
    code = "no_active_key"


class ActiveKeyExistsError(KeysError):
    code = "active_key_exists"


class KeyStateError(KeysError):
    """A key state change that the lifecycle does not allow."""

    code = "invalid_key_transition"


class MasterKeyError(KeysError):
    """The master key is missing, malformed, or does not open a stored key."""

    code = "master_key_error"
