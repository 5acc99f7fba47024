"""Does an assignment match the officer's own agency? The officer gives a name, an
email domain or their own email address: a name matches ignoring case and
diacritics, a domain (an address's domain) matches exactly."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from keys.text import fold_name

MAX_AGENCY_INPUT = 200
_DOMAIN_RE = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def email_domain(text: str) -> str | None:
    """The domain an officer means: ``khanhhoa.gov.vn`` from that domain itself, from
    ``@khanhhoa.gov.vn`` or from a whole address such as ``btdkt@khanhhoa.gov.vn``;
    None when ``text`` is not one of these (then it is an agency's name)."""
    text = text.strip().lower()
    if " " in text:
        return None
    local, at, domain = text.rpartition("@")
    if at and local and not re.fullmatch(r"[^@\s]{1,64}", local):
        return None
    return domain if _DOMAIN_RE.match(domain) else None


def agency_matcher(agency: str) -> Callable[[dict[str, Any]], bool | None] | None:
    """A check for assignment claims, or None when ``agency`` is empty.

    The returned function answers True (this agency), False (another agency: the
    verdict becomes ``wrong_agency``)."""
    text = " ".join(agency.split())[:MAX_AGENCY_INPUT]
    if not text:
        return None
    domain = email_domain(text)
    if domain is not None:

        def by_domain(claims: dict[str, Any]) -> bool | None:
            claimed = claims.get("agency_domain")
            return isinstance(claimed, str) and claimed.lower() == domain

        return by_domain
    folded = fold_name(text)

    def by_name(claims: dict[str, Any]) -> bool | None:
        claimed = claims.get("agency")
        return isinstance(claimed, str) and fold_name(claimed) == folded

    return by_name
