"""Credentials: signed staff cards (and the signing shared with assignments), their
lifecycle, the status lists their entries live in (an entry always says the
credential's effective status), the printable card, and the console pages and
commands that manage them."""
