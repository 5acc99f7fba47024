"""Translation at the edge. Services raise message ids with parameters and never call
Flask-Babel; here a message id becomes text in the request's language: the catalogs
(``translations/<part>/vi``, compiled at start-up), nested messages and the words
that parameters carry (field names, states, kinds) translated along, decimals written
the locale's way. Also the date filters every page uses (Viet Nam time)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l

from keys.contract import VN_TZ
from keys.errors import ChinhdanhError, Message, format_message

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"

# How pages name each state word (the words themselves stay in data-status and JSON).
STATUS_WORDS: dict[str, Any] = {
    "active": _l("active"),
    "suspended": _l("suspended"),
    "departed": _l("departed"),
    "valid": _l("valid"),
    "revoked": _l("revoked"),
    "retired": _l("retired"),
    "pending": _l("waiting for setup"),
    "disabled": _l("disabled"),
    "new": _l("new"),
    "reviewing": _l("reviewing"),
    "confirmed": _l("confirmed"),
    "not_impersonation": _l("not impersonation"),
    "duplicate": _l("duplicate"),
}
# Words that error messages carry as parameters, by the parameter's name.
WORDS: dict[str, Mapping[str, Any]] = {
    "field": {
        "code": _l("staff code"),
        "name": _l("name"),
        "title": _l("title"),
        "unit": _l("unit"),
        "phone": _l("phone"),
        "email": _l("email"),
        "reason": _l("reason"),
        "agency": _l("agency"),
        "agency_domain": _l("agency domain"),
        "purpose": _l("purpose"),
        "channel": _l("channel"),
        "value": _l("value"),
        "note": _l("note"),
        "label": _l("label"),
        "username": _l("username"),
        "password": _l("password"),
    },
    "status": STATUS_WORDS,
    "to": STATUS_WORDS,
    "kind": {
        "staff": _l("staff card"),
        "assignment": _l("assignment"),
        "email": _l("email"),
        "phone": _l("phone"),
        "domain": _l("domain"),
        "url": _l("web address"),
    },
}


def _param(name: str, value: object) -> object:
    if isinstance(value, Message):
        return translate(value.id, value.params)
    if isinstance(value, float):
        return format_decimal(value)
    word = WORDS.get(name, {}).get(str(value))
    return str(word) if word is not None else value


def translate(template: str, params: Mapping[str, object] | None = None) -> str:
    """``template`` (a message id) in the current language, with ``params``."""
    text = str(gettext(template))
    if not params:
        return text
    return format_message(text, {name: _param(name, value) for name, value in params.items()})


def translated(exc: ChinhdanhError) -> str:
    """An error's message in the current language."""
    return translate(exc.template, exc.params)


def vn_date(value: datetime | str | None) -> str:
    """dd/mm/yyyy in Viet Nam time (accepts an ISO string too)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y")


def vn_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def compile_catalogs(target: Path) -> list[str]:
    """Compile every ``translations/<part>/<lang>/LC_MESSAGES/messages.po`` into
    ``target`` when the .mo is missing or older. Written atomically, so gunicorn
    workers starting together never read half a file. Returns the directories."""
    dirs = []
    for po_path in sorted(TRANSLATIONS.glob("*/*/LC_MESSAGES/messages.po")):
        part = po_path.parents[2].name
        lang = po_path.parents[1].name
        mo_path = target / part / lang / "LC_MESSAGES" / "messages.mo"
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
            fd, tmp = tempfile.mkstemp(dir=mo_path.parent)
            with os.fdopen(fd, "wb") as out:
                write_mo(out, catalog)
            os.replace(tmp, mo_path)
        if str(target / part) not in dirs:
            dirs.append(str(target / part))
    return dirs
