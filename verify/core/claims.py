"""Token rules shared by the server's verification and the offline client: reading
what was presented (a bare token, or the URL of a QR code, which must point at the
trusted service), and the claims every credential and assignment must carry.

No Flask and no database here: the offline client imports this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import SplitResult, unquote, urlsplit

from keys.contract import ASSIGNMENT_TEXT_CLAIMS, VERIFY_PREFIX
from keys.errors import MalformedTokenError

_VERIFY_PATH = re.compile(re.escape(VERIFY_PREFIX) + r"([^/?#]+)")
# A compact JWS is base64url and dots: a ':' or '/' means a URL (or a piece of one).
_URL_MARKS = frozenset(":/\\")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:[0-9]+(?:[/?#]|$)")  # ``host:port/...`` with no scheme
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_HOST_SHOWN = 253  # the longest DNS name; what the verdict page names


@dataclass(frozen=True, slots=True)
class Presented:
    """What an officer presented, read: the token to check, or, for a URL that points
    somewhere other than the trusted service, the host it points at (the mark of a
    forged card, whatever token the URL carries)."""

    token: str
    foreign_host: str | None = None


def extract_token(text: str) -> str:
    """The token inside a QR URL (``…/v/<token>``, any host), or the text itself.
    Never raises: a URL that cannot be parsed is searched as plain text."""
    text = text.strip()
    if VERIFY_PREFIX in text:
        try:
            path = urlsplit(text).path or text
        except ValueError:
            path = text
        match = _VERIFY_PATH.search(path)
        if match:
            return unquote(match.group(1))
    return text


def _netloc(parts: SplitResult, scheme: str) -> str:
    """``host[:port]`` of ``parts``, normalised as a browser compares origins: host in
    lower case without a trailing dot, the scheme's default port dropped. Raises
    MalformedTokenError for a port that is not a port."""
    try:
        port = parts.port
    except ValueError as exc:
        raise MalformedTokenError("the URL's port is not a number") from exc
    host = (parts.hostname or "").rstrip(".")
    if parts.username is not None or parts.password is not None or "\\" in parts.netloc:
        # userinfo and backslashes are where URL parsers (ours, a phone's) disagree
        # about the host; a genuine card's URL has neither
        host = parts.netloc.lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6, as it is written in a URL
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return host
    return f"{host}:{port}"


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, normalised (see ``_netloc``).
    Raises MalformedTokenError when ``url`` is not an absolute URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise MalformedTokenError("not a URL") from exc
    if not parts.scheme or not parts.netloc:
        raise MalformedTokenError("not an absolute URL")
    scheme = parts.scheme.lower()
    return f"{scheme}://{_netloc(parts, scheme)}"


def read_presented(text: str, *, own_origin: str) -> Presented:
    """Read ``text``: a bare token, a URL of this service (``own_origin``, as
    ``origin`` gives it) holding ``/v/<token>``, or a URL of another site.

    A full URL (scheme and host, or a host without a scheme) whose origin is not
    ``own_origin`` gives ``foreign_host``. Raises MalformedTokenError for text that
    looks like a URL but cannot be parsed as one.
    """
    text = text.strip()
    if not any(mark in text for mark in _URL_MARKS):  # a bare token: the common case, kept cheap
        return Presented(text)
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise MalformedTokenError("not a URL") from exc
    own = urlsplit(own_origin)
    if parts.netloc or text.startswith("//"):
        if "\\" in text.split("?", 1)[0].split("#", 1)[0]:
            # a phone's browser reads '\' as '/', Python does not: the two would not
            # agree on the host, so neither is trusted
            return Presented("", foreign_host=_shown(parts.netloc or text))
        scheme = parts.scheme.lower() or own.scheme
        netloc = _netloc(parts, scheme)
        if f"{scheme}://{netloc}" != own_origin:
            # name the host; when only the scheme or port differs, the whole origin
            shown = parts.hostname or parts.netloc
            return Presented("", foreign_host=_shown(shown if shown != own.hostname else f"{scheme}://{netloc}"))
        return Presented(extract_token(text))
    if _HOST_PORT.match(text):
        # urlsplit reads ``host:port/v/...`` as the scheme ``host``: it is a host
        return read_presented(f"//{text}", own_origin=own_origin)
    if parts.scheme:
        raise MalformedTokenError("a URL without a host")
    first = parts.path.split("/", 1)[0]
    if "." in first:
        # ``host/v/<token>`` without a scheme: a host all the same
        return read_presented(f"//{text}", own_origin=own_origin)
    return Presented(extract_token(text))


def _shown(host: str) -> str:
    """``host`` as the verdict names it: every character that is not printable ASCII
    escaped (``\u043e``), so a look-alike letter, an invisible one or a direction
    mark cannot make the foreign host read as the service's own."""
    escaped = (c if c.isascii() and c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in host)
    return "".join(escaped)[:MAX_HOST_SHOWN]


# The registry's credential id: base64url, at most its 32-character column. Checked
# before the id goes to the database, where a NUL byte is an error, not a miss.
JTI_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# ``iat``/``exp``/``nbf`` from 1970 to 2106 (2**32 s): beyond any card's life, and far
# enough from datetime's year 9999 that no conversion (to Viet Nam time) overflows.
MAX_TIMESTAMP = 2**32
MAX_STATUS_INDEX = 2**31 - 1  # the registry's 32-bit column


def lookup_id(claims: dict[str, Any]) -> str:
    """``jti`` when it has the shape of a credential id, else "" (an id nothing has):
    what a verifier may look up before the signature is checked."""
    jti = claims.get("jti")
    return jti if isinstance(jti, str) and JTI_RE.match(jti) else ""


def is_timestamp(value: object) -> TypeGuard[int]:
    """An ``iat``/``exp``/``nbf`` value a verifier can turn into a datetime."""
    return type(value) is int and 0 <= value <= MAX_TIMESTAMP


def required_claims(claims: dict[str, Any], issuer: str) -> None:
    """Return if ``claims`` has the contract's shape and ``iss`` is ``issuer``;
    raise MalformedTokenError otherwise. Every claim a verifier reads is then of
    its type and in its range."""
    if claims.get("iss") != issuer:
        raise MalformedTokenError("issuer is not the trusted service")
    for name in ("sub", "jti", "name"):
        if not isinstance(claims.get(name), str):
            raise MalformedTokenError(f"claim {name} missing")
    if not JTI_RE.match(claims["jti"]):
        raise MalformedTokenError("claim jti is not a credential id")
    for name in ("iat", "exp"):
        if not is_timestamp(claims.get(name)):
            raise MalformedTokenError(f"claim {name} missing or out of range")
    if "nbf" in claims and not is_timestamp(claims["nbf"]):
        raise MalformedTokenError("claim nbf is not a time")
    for name in ASSIGNMENT_TEXT_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            raise MalformedTokenError(f"claim {name} is not text")
    entry = claims.get("status", {}).get("status_list") if isinstance(claims.get("status"), dict) else None
    if (
        not isinstance(entry, dict)
        or type(entry.get("idx")) is not int
        or not 0 <= entry["idx"] <= MAX_STATUS_INDEX
        or not isinstance(entry.get("uri"), str)
    ):
        raise MalformedTokenError("claim status missing")
