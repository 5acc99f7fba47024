"""The signed public documents verifiers read: JWKS, the root-signed key set, status
lists and the roster (with the root key's public JWK)."""
