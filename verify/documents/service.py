"""The status lists as verifiers get them: signed again only when they changed, the
signing key changed, or half their cache lifetime passed (so ``exp`` stays well
ahead of any cached copy). Cached per application, never across databases."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from keys import service as key_service
from keys.crypto import MasterKey
from registry.credentials import statuslists

STATUS_LIST_MAX_AGE = int(statuslists.STATUS_LIST_TTL.total_seconds())
CACHE = "chinhdanh.status_list_cache"


def signed_status_list(
    session: Session, master: MasterKey, list_id: int, version: int, *, issuer: str, now: datetime
) -> str:
    """The signed list ``list_id`` at ``version``; raise keys' NoActiveKeyError."""
    cache: dict[tuple[int, int, str], tuple[str, float]] = current_app.extensions.setdefault(CACHE, {})
    key = (list_id, version, key_service.active_key(session).kid)
    cached = cache.get(key)
    if cached is not None and cached[1] >= now.timestamp() - STATUS_LIST_MAX_AGE / 2:
        return cached[0]
    row = statuslists.get_list(session, list_id)
    if row is None:
        raise LookupError(list_id)
    token = statuslists.status_list_token(session, master, row, base_url=issuer, now=now)
    session.commit()  # the signing key's last_expiry moved
    cache.clear()
    cache[key] = (token, now.timestamp())
    return token
