"""How the public pages, the console and the feed name a warning's parts: the kinds
of identifier and the ways the impostor made contact, and a warning's title."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from verify.reports.models import IdentifierKind
from verify.reports.validation import CHANNEL_LABELS
from verify.warnings.models import PublicWarning

IDENTIFIER_WORDS: dict[str, Any] = {
    IdentifierKind.PHONE.value: _l("Phone number"),
    IdentifierKind.EMAIL.value: _l("Email"),
    IdentifierKind.LINK.value: _l("Zalo, Facebook or other account"),
    IdentifierKind.ACCOUNT.value: _l("Bank account"),
}


def channel_word(value: str) -> str:
    labels = {c.value: label for c, label in CHANNEL_LABELS.items()}
    return str(_(labels[value])) if value in labels else value


def title(warning: PublicWarning) -> str:
    """A warning's headline: who the impostor claimed to be, else their first contact."""
    if warning.claimed_name:
        return str(_("Impostor using the name %(name)s", name=warning.claimed_name))
    if warning.identifiers:
        return str(_("Impostor using %(contact)s", contact=warning.identifiers[0]["value"]))
    return str(_("Impostor claiming to be from the Centre"))


def template_words() -> dict[str, Any]:
    """The names above as the warnings' templates call them: both warnings blueprints,
    the public one and the console's, give them to every template they render."""
    return {"identifier_words": IDENTIFIER_WORDS, "channel_word": channel_word, "title": title}
