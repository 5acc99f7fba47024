"""The signing keys' lifecycle as the Centre runs it: generate, rotate, revoke, and
the root key, each change audited in one place whether it comes from the console or
the command line; the console's key page and the ``keys`` commands. The keys
themselves (sealing, signing, JWKS, key set) are ``keys``."""
