"""Verification: a token, a QR URL or a card photo answered with a verdict, as a page,
as JSON and on the fast path below Flask, all through ``service.verify_on``."""
