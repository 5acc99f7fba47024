"""The public answers as JSON: what a printed card shows, the Centre's official
channels, and a verification's verdict. The pages render these same dictionaries.
Who to call back is ``verify.core.callback``'s rule: a person's own phone and email only
beside ``valid`` for an active person, otherwise the answer's ``official_contacts``.
"""

from __future__ import annotations

from typing import Any

from keys.contract import ASSIGNMENT_TEXT_CLAIMS, staff_photo_url
from keys.text import display_phone
from registry.channels.models import ChannelKind
from registry.channels.service import ChannelRecord
from registry.platform.config import base_url
from registry.queries import StaffCard
from verify.core.callback import shows_own_contacts, shows_photo
from verify.core.verdicts import Verdict
from verify.verification.service import Result


def card_json(card: StaffCard, base: str | None = None, *, own_contacts: bool) -> dict[str, Any]:
    """What the printed card shows; its phone and email only with ``own_contacts``
    (``verify.core.callback.shows_own_contacts``), its photo never for a departed person.
    ``base`` is PUBLIC_BASE_URL, read from the app when not given."""
    if base is None:
        base = base_url()
    phone = card.phone if own_contacts else None
    email = card.email if own_contacts else None
    photo = shows_photo(card)
    return {
        "code": card.code,
        "name": card.name,
        "title": card.title,
        "unit": card.unit,
        "phone": phone,
        "phone_display": display_phone(phone) if phone else None,
        "email": email,
        "status": card.status.value,
        "photo_url": staff_photo_url(base, card.code) if photo else None,
    }


def channel_json(ch: ChannelRecord) -> dict[str, Any]:
    display = display_phone(ch.value) if ch.kind is ChannelKind.PHONE else ch.value
    return {"kind": ch.kind.value, "value": ch.value, "display": display, "label": ch.label}


def result_json(result: Result, base: str | None = None) -> dict[str, Any]:
    """The public answer: what the printed card shows, never more, and the Centre's
    channels to call back on whenever it gives none of the person's own
    (``verify_on`` reads them then, and only then: the valid answer is the busy one)."""
    credential = None
    staff = None
    if result.credential is not None:
        rec = result.credential
        credential = {
            "id": rec.id,
            "kind": rec.kind.value,
            "issued_at": rec.issued_at.isoformat(),
            "not_before": rec.not_before.isoformat() if rec.not_before else None,
            "expires_at": rec.expires_at.isoformat(),
        }
        if result.claims is not None:
            for name in ASSIGNMENT_TEXT_CLAIMS:
                if name in result.claims:
                    credential[name] = result.claims[name]
        own = shows_own_contacts(rec.staff, valid=result.verdict is Verdict.VALID)
        staff = card_json(rec.staff, base, own_contacts=own)
    return {
        "verdict": result.verdict.value,
        "foreign_host": result.foreign_host,
        "credential": credential,
        "staff": staff,
        "official_contacts": [channel_json(c) for c in result.official_contacts],
        "checked_at": result.checked_at.isoformat(),
    }
