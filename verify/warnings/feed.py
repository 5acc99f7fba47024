"""The Atom feed of the public warnings (RFC 4287), newest first, for agencies'
systems to poll with ``If-None-Match``. Written with the standard library's
ElementTree: a handful of elements, escaped by the serializer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from flask_babel import format_decimal
from flask_babel import gettext as _

from verify.warnings.models import PublicWarning
from verify.warnings.words import IDENTIFIER_WORDS, channel_word, title

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_ENTRIES = 50
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # the feed's "updated" before any warning


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def summary(warning: PublicWarning) -> str:
    """The warning as plain text: its identifiers, the contact, what was asked,
    when, and the Centre's words."""
    named = [i for i in warning.identifiers if i["kind"] in IDENTIFIER_WORDS]
    lines = [f"{IDENTIFIER_WORDS[i['kind']]}: {i['value']}" for i in named]
    if warning.staff_code:
        lines.append(_("Staff code they gave: %(code)s", code=warning.staff_code))
    lines.append(_("How they made contact: %(channel)s", channel=channel_word(warning.channel)))
    lines.append(_("What they asked for: %(asked)s", asked=warning.asked))
    if warning.amount_vnd:
        lines.append(_("Amount asked: %(amount)s VND", amount=format_decimal(warning.amount_vnd)))
    start, end = f"{warning.period_start:%d/%m/%Y}", f"{warning.period_end:%d/%m/%Y}"
    lines.append(_("Period: %(start)s to %(end)s", start=start, end=end))
    if warning.agency:
        lines.append(_("Reported by: %(agency)s", agency=warning.agency))
    lines.append("")
    lines.append(warning.text)
    return "\n".join(lines)


def atom_feed(warnings: Sequence[PublicWarning], *, base: str, updated: datetime | None, lang: str) -> bytes:
    """The feed document, UTF-8."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: lang})
    _sub(feed, "id", f"{base}/warnings")
    _sub(feed, "title", _("Warnings about impostors of the Centre"))
    _sub(feed, "subtitle", _("Contacts that the Centre has confirmed as used by people impersonating its staff."))
    _sub(feed, "updated", _stamp(updated or EPOCH))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/warnings.atom")
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{base}/warnings")
    author = _sub(feed, "author")
    _sub(author, "name", _("Information–Communication Centre, Central Emulation and Commendation Board"))
    for warning in warnings:
        entry = _sub(feed, "entry")
        url = f"{base}/warnings/{warning.id}"
        _sub(entry, "id", url)
        _sub(entry, "title", title(warning))
        _sub(entry, "published", _stamp(warning.published_at))
        _sub(entry, "updated", _stamp(warning.published_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        _sub(entry, "content", summary(warning), type="text")
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))
