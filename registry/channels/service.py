"""The Centre's official channels: the emails, phones, domains and web addresses an
agency may trust and call back on. Admins manage them from the CLI; lookups read them.

Each value is stored in one normal form for its kind, so that every written form of
the same contact matches: phones in E.164, emails case-folded, domains as lower-case
ASCII (IDNA), web addresses as ``host/path`` without scheme, ``www.`` or trailing slash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keys.errors import N_
from keys.text import parse_email, parse_phone, web_address
from registry.audit import service as audit
from registry.channels.models import ChannelKind, OfficialChannel
from registry.errors import ConflictError, NotFoundError, ValidationError
from registry.fields import clean_text

MAX_LABEL = 200
MAX_URL_INPUT = 500
MAX_STORED = 300  # the column
HOST_RE = re.compile(r"^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# Addresses anyone can open in a minute. Listing one of these as an official *domain*
# would make every impostor's free-mail account look official, so it is refused;
# a single free-mail address (the Board really uses one) is listed as an email.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.com.vn",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "mail.ru",
        "yandex.com",
        "zoho.com",
    }
)
DROPPED_HOST_PREFIXES = ("www.", "m.")
# The kinds an officer can call or write to, in the order they are shown: a phone
# first, since calling back is the check the Board asks for.
CONTACT_ORDER = {ChannelKind.PHONE: 0, ChannelKind.EMAIL: 1, ChannelKind.URL: 2}


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """An official channel as the public side sees it."""

    kind: ChannelKind
    value: str
    label: str


def normalize_host(value: str, *, field: str = "value") -> str:
    """Lower-case ASCII host name (IDNA for Vietnamese domains); raise ValidationError."""
    text = value.strip().rstrip(".").lower()
    try:
        ascii_host = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError(N_("{field} is not a valid domain name"), field=field, params={"field": field}) from exc
    if not HOST_RE.match(ascii_host):
        raise ValidationError(N_("{field} is not a valid domain name"), field=field, params={"field": field})
    return ascii_host


def parse_host(value: str) -> str | None:
    """``normalize_host`` that answers None instead of raising."""
    try:
        return normalize_host(value)
    except ValidationError:
        return None


def split_url(value: str) -> tuple[str, str] | None:
    """(host, path) of an http(s) address typed with or without its scheme, or None."""
    found = web_address(value, max_len=MAX_URL_INPUT)
    if found is None or found[0].username or found[0].password:
        return None
    parts, host = found
    normal_host = parse_host(host)
    if normal_host is None:
        return None
    for prefix in DROPPED_HOST_PREFIXES:
        if normal_host.startswith(prefix) and normal_host.count(".") >= 2:
            normal_host = normal_host[len(prefix) :]
            break
    return normal_host, parts.path.rstrip("/").lower()


def normalize_value(kind: ChannelKind, value: str) -> str:
    """The stored form of ``value`` for ``kind``; raise ValidationError."""
    if kind is ChannelKind.PHONE:
        phone = parse_phone(value)
        if phone is None:
            raise ValidationError(N_("value is not a valid phone number"), field="value")
        return phone
    if kind is ChannelKind.EMAIL:
        email = parse_email(value)
        if email is None:
            raise ValidationError(N_("value is not a valid email address"), field="value")
        return email
    if kind is ChannelKind.DOMAIN:
        host = normalize_host(value.removeprefix("@"))
        if host in FREE_MAIL_DOMAINS:
            raise ValidationError(
                N_("{host} is a free-mail domain anyone can use; list the one official address as an email"),
                field="value",
                params={"host": host},
            )
        return host
    parts = split_url(value)
    if parts is None:
        raise ValidationError(N_("value is not a valid web address"), field="value")
    normal = parts[0] + parts[1]
    if len(normal) > MAX_STORED:
        raise ValidationError(N_("value is longer than {max} characters"), field="value", params={"max": MAX_STORED})
    return normal


def guess_kind(value: str) -> ChannelKind:
    """The kind a bare value most likely is, for ``channels add VALUE`` without --kind."""
    text = value.strip()
    if "@" in text and not text.startswith("@"):
        return ChannelKind.EMAIL
    if "/" in text:
        return ChannelKind.URL
    if parse_phone(text) is not None:
        return ChannelKind.PHONE
    return ChannelKind.DOMAIN


def add_channel(
    session: Session, *, kind: ChannelKind, value: str, label: str, actor: str, now: datetime
) -> OfficialChannel:
    """List a new official channel; raise ValidationError or ConflictError (already listed)."""
    normal = normalize_value(kind, value)
    clean_label = clean_text(label, field="label", max_len=MAX_LABEL)
    if find_channel(session, kind, normal) is not None:
        raise ConflictError(
            N_("{kind} {value} is already an official channel"),
            field="value",
            params={"kind": kind.value, "value": normal},
        )
    channel = OfficialChannel(kind=kind, value=normal, label=clean_label, created_at=now, created_by=actor[:64])
    session.add(channel)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent add of the same value; the caller rolls back
        raise ConflictError(
            N_("{kind} {value} is already an official channel"),
            field="value",
            params={"kind": kind.value, "value": normal},
        ) from exc
    details = {"label": clean_label}
    audit.append(session, actor=actor, action="channel.add", target=f"{kind.value}:{normal}", details=details, now=now)
    return channel


def find_channel(session: Session, kind: ChannelKind, normal: str) -> OfficialChannel | None:
    return session.scalars(
        select(OfficialChannel).where(OfficialChannel.kind == kind, OfficialChannel.value == normal)
    ).first()


def remove_channel(session: Session, *, kind: ChannelKind, value: str, actor: str, now: datetime) -> ChannelRecord:
    """Unlist a channel; returns what was removed; raise NotFoundError."""
    normal = normalize_value(kind, value)
    channel = find_channel(session, kind, normal)
    if channel is None:
        raise NotFoundError(
            N_("{kind} {value} is not an official channel"), field="value", params={"kind": kind.value, "value": normal}
        )
    record = ChannelRecord(kind=channel.kind, value=channel.value, label=channel.label)
    session.delete(channel)
    session.flush()
    audit.append(session, actor=actor, action="channel.remove", target=f"{kind.value}:{normal}", now=now)
    return record


def contact_order(channels: Iterable[ChannelRecord]) -> tuple[ChannelRecord, ...]:
    """The channels an officer can call or write to (``CONTACT_ORDER``), phones first."""
    contacts = (c for c in channels if c.kind in CONTACT_ORDER)
    return tuple(sorted(contacts, key=lambda c: (CONTACT_ORDER[c.kind], c.value)))


def list_channels(session: Session, kind: ChannelKind | None = None) -> list[ChannelRecord]:
    """Every official channel (of one kind if given), in a stable order."""
    query = select(OfficialChannel.kind, OfficialChannel.value, OfficialChannel.label).order_by(
        OfficialChannel.kind, OfficialChannel.value
    )
    if kind is not None:
        query = query.where(OfficialChannel.kind == kind)
    return [ChannelRecord(kind=row.kind, value=row.value, label=row.label) for row in session.execute(query)]
