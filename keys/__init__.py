"""The library below everything: signing keys sealed under the master key and their
lifecycle (active -> retired -> revoked), compact JWS sign/verify, JWKS and the
root-signed key set, the status-list encoding, the wire contract shared with every
verifier (``contract``), the text normalisers the offline client needs too
(``text``), the declarative base of every model (``orm``), and the shape of every
error family (``errors``).

No Flask here, no application engine, and nothing from ``registry`` or ``verify``.
"""
