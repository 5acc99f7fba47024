"""Does an assignment match the officer's own agency? The officer gives a name or an
email domain: a name matches ignoring case and diacritics, a domain matches exactly."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from registry.normalize import fold_name

MAX_AGENCY_INPUT = 200
_DOMAIN_RE = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def looks_like_domain(text: str) -> bool:
    return " " not in text and bool(_DOMAIN_RE.match(text.strip().lower().lstrip("@")))


def agency_matcher(agency: str) -> Callable[[dict[str, Any]], bool | None] | None:
    """A check for assignment claims, or None when ``agency`` is empty.

    The returned function answers True (this agency), False (another agency: the
    verdict becomes ``wrong_agency``)."""
    text = " ".join(agency.split())[:MAX_AGENCY_INPUT]
    if not text:
        return None
    if looks_like_domain(text):
        domain = text.lower().lstrip("@").split("@")[-1]

        def by_domain(claims: dict[str, Any]) -> bool | None:
            claimed = claims.get("agency_domain")
            return isinstance(claimed, str) and claimed.lower() == domain

        return by_domain
    folded = fold_name(text)

    def by_name(claims: dict[str, Any]) -> bool | None:
        claimed = claims.get("agency")
        return isinstance(claimed, str) and fold_name(claimed) == folded

    return by_name
