"""Token rules shared by the server's verification and the offline client: finding
the token in a QR URL and the claims every credential and assignment must carry.

No Flask and no database here: the offline client imports this module.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from keys.errors import MalformedTokenError

_VERIFY_PATH = re.compile(r"/v/([^/?#]+)")


def extract_token(text: str) -> str:
    """The token inside a QR URL (``…/v/<token>``, any host), or the text itself."""
    text = text.strip()
    if "/v/" in text:
        match = _VERIFY_PATH.search(urlsplit(text).path or text)
        if match:
            return unquote(match.group(1))
    return text


def required_claims(claims: dict[str, Any], issuer: str) -> None:
    """Return if ``claims`` has the contract's shape and ``iss`` is ``issuer``;
    raise MalformedTokenError otherwise."""
    if claims.get("iss") != issuer:
        raise MalformedTokenError("issuer is not the trusted service")
    for name in ("sub", "jti", "name"):
        if not isinstance(claims.get(name), str):
            raise MalformedTokenError(f"claim {name} missing")
    for name in ("iat", "exp"):
        if type(claims.get(name)) is not int:
            raise MalformedTokenError(f"claim {name} missing")
    if "nbf" in claims and type(claims["nbf"]) is not int:
        raise MalformedTokenError("claim nbf is not a number")
    entry = claims.get("status", {}).get("status_list") if isinstance(claims.get("status"), dict) else None
    if not isinstance(entry, dict) or type(entry.get("idx")) is not int or not isinstance(entry.get("uri"), str):
        raise MalformedTokenError("claim status missing")
