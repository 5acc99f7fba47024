"""Who to call back (DESIGN.md), decided in one place for every public answer.

A person's own phone and email are contacts to call back on only beside a ``valid``
answer (a verdict, a live code, an official-staff lookup) for an active person.
Everywhere else, and always for a departed person, they are withheld and the
Centre's official channels stand in for them. Former collaborators keep their old
cards and are the likeliest impostors: their numbers are theirs, not the Centre's.

Pure, with no Flask, database or registry import: the server's answers (a
``registry.queries.StaffCard``) and the offline client's (a roster card) follow
this same rule.
"""

from __future__ import annotations

from typing import Protocol

# registry.staff.models.StaffStatus's values (a StrEnum, so equal to these strings), named
# here without importing SQLAlchemy; a test holds them equal
ACTIVE = "active"
DEPARTED = "departed"


class Card(Protocol):
    """A person as an answer shows them: a status and their own contacts."""

    @property
    def status(self) -> str: ...

    @property
    def phone(self) -> str | None: ...

    @property
    def email(self) -> str | None: ...


class PhotoCard(Card, Protocol):
    @property
    def has_photo(self) -> bool: ...


def shows_own_contacts(card: Card, *, valid: bool) -> bool:
    """Whether an answer that is ``valid`` or not may show ``card``'s own phone and
    email as contacts to call back on."""
    return valid and card.status == ACTIVE


def needs_centre_contacts(card: Card | None, *, valid: bool) -> bool:
    """Whether the answer must carry the Centre's official channels: whenever it
    gives no contact of the person's own to call back on."""
    return card is None or not shows_own_contacts(card, valid=valid) or not (card.phone or card.email)


def shows_photo(card: PhotoCard) -> bool:
    """A departed person's photo is never served (registry.queries.staff_photo)."""
    return card.has_photo and card.status != DEPARTED
