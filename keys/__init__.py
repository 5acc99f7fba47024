"""Signing keys and JOSE for chinhdanh: Ed25519 keys encrypted at rest under the
master key, their lifecycle (active -> retired -> revoked), compact JWS sign/verify,
JWKS, the root-signed key set, the status-list encoding, and how the phone numbers
the signed documents carry are written for people.

No Flask here, and nothing from ``registry`` or ``verify``.
"""
