"""What the user trusts: the server's address (``https://``, or plain ``http://``
to this computer only) and the root key's thumbprint, as given on the command
line, in the environment or through the library, checked before any request."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from keys import jose
from verify.client.errors import InputError, InsecureServerError, NoServerError

MAX_SERVER_URL = 200
LOOPBACK_NAMES = frozenset({"localhost"})
IPV4_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
IPV6_LOOPBACK = ipaddress.ip_address("::1")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as ``urlsplit`` gives it: lower case, IPv6 unbracketed) is
    this computer: 127.0.0.0/8, ::1 or localhost."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address in IPV4_LOOPBACK if address.version == 4 else address == IPV6_LOOPBACK


def normalize_server(url: str) -> str:
    """The server's base URL as it appears in ``iss``. Raise NoServerError for what
    is not a server's address, InsecureServerError for ``http://`` to another
    computer (anyone on the way could answer in the server's name)."""
    text = url.strip().rstrip("/")
    shown = url[:MAX_SERVER_URL]
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018  # raises ValueError for a port that is not one
    except ValueError as exc:
        raise NoServerError("{url} is not the address of a server (https://).", url=shown) from exc
    if (
        len(text) > MAX_SERVER_URL
        or not text.isascii()
        or not text.isprintable()
        or " " in text
        or "\\" in text
        or parts.scheme not in ("http", "https")
        or not host
        or parts.username is not None
        or parts.password is not None
        or parts.query
        or parts.fragment
    ):
        raise NoServerError("{url} is not the address of a server (https://).", url=shown)
    if parts.scheme == "http" and not is_loopback(host):
        raise InsecureServerError(
            "{url} is not https://: anyone between this computer and the server could answer in its name. "
            "http:// is accepted only for this computer (127.0.0.1, ::1, localhost).",
            url=shown,
        )
    return text


def normalize_thumbprint(text: str) -> str:
    """A thumbprint as printed in a letter (spaces or line breaks allowed); raise
    InputError if it is not a base64url SHA-256 thumbprint."""
    value = "".join(text.split())
    if not jose.KID_RE.match(value):
        raise InputError("{value} is not a key thumbprint (43 letters, digits, - or _).", value=text[:100])
    return value
