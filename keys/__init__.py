"""Signing keys and JOSE for chinhdanh: Ed25519 keys encrypted at rest under the
master key, their lifecycle (active -> retired -> revoked), compact JWS sign/verify,
JWKS, the root-signed key set and the status-list encoding.

No Flask here, and nothing from ``registry`` or ``verify``.
"""
