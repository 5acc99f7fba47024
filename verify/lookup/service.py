"""Lookup: what an officer typed (a phone, an email, a staff code, a name, a web
address, a domain or a bank account) against the registry, the Centre's official
channels and confirmed impersonation reports.

The answer is one of ``official_staff``, ``official_channel``, ``reported_impostor``
or ``unknown``, with what the printed card shows of every matching staff member, the
official contacts to call back on, and warnings: a name shared by several people, a
suspended staff member, an address that imitates the Centre's domain or uses its name
at a free-mail provider. Nothing here imports Flask; wording is the view's job.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from keys.text import fold_name, nfc, parse_email, parse_phone
from registry.channels.models import ChannelKind
from registry.channels.service import ChannelRecord, contact_order, list_channels, parse_host, split_url
from registry.fields import STAFF_CODE_RE
from registry.queries import StaffCard, held_by_former_or_suspended, working_staff_cards
from registry.staff.models import Staff, StaffStatus
from verify.errors import ValidationError
from verify.lookup.hosts import LookupWarning, WarningCode, email_warnings, host_warnings, under
from verify.reports.identifiers import ImpostorRecord, impostor_record, normalize_account, normalize_link
from verify.reports.models import IdentifierKind
from verify.warnings.service import WarningRef, warnings_naming, warnings_naming_staff

MAX_QUERY = 300  # longer than any phone, email, name or profile link an officer types
MIN_NAME_LETTERS = 2
MAX_NAMESAKES = 50  # a name search lists every namesake; no real name has more at the Centre
DIGITS_ONLY = re.compile(r"^[\d\s.\-]+$")


class Answer(StrEnum):
    OFFICIAL_STAFF = "official_staff"
    OFFICIAL_CHANNEL = "official_channel"
    REPORTED_IMPOSTOR = "reported_impostor"
    UNKNOWN = "unknown"


class QueryKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    STAFF_CODE = "staff_code"
    NAME = "name"
    URL = "url"
    DOMAIN = "domain"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class Query:
    """What was typed, classified and in its normal form."""

    text: str
    kind: QueryKind
    normal: str


@dataclass(frozen=True, slots=True)
class LookupResult:
    query: Query
    answer: Answer
    checked_at: datetime
    staff: tuple[StaffCard, ...] = ()
    channel: ChannelRecord | None = None
    impostor: ImpostorRecord | None = None
    warnings: tuple[LookupWarning, ...] = ()
    official_contacts: tuple[ChannelRecord, ...] = ()
    public_warnings: tuple[WarningRef, ...] = ()  # the Centre's published warnings naming what was typed


def _has_controls(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in text)


def classify(text: str) -> Query:
    """Decide what ``text`` is; raise ValidationError if it is none of them."""
    raw = nfc(" ".join(text.split()))
    if not raw:
        raise ValidationError("type a phone number, an email, a staff code or a name", field="q")
    if len(raw) > MAX_QUERY:
        raise ValidationError(f"the search is longer than {MAX_QUERY} characters", field="q")
    if _has_controls(raw):
        raise ValidationError("the search contains control characters", field="q")
    if "@" in raw and not raw.startswith("@"):
        email = parse_email(raw)
        if email is None:
            raise ValidationError("this is not a valid email address", field="q")
        return Query(raw, QueryKind.EMAIL, email)
    if " " not in raw and ("://" in raw or "/" in raw):
        parts = split_url(raw)
        if parts is None:
            raise ValidationError("this is not a valid web address", field="q")
        return Query(raw, QueryKind.URL, parts[0] + parts[1])
    phone = parse_phone(raw)
    if phone is not None:
        return Query(raw, QueryKind.PHONE, phone)
    if DIGITS_ONLY.match(raw):
        account = normalize_account(raw)
        if account is not None:
            return Query(raw, QueryKind.ACCOUNT, account)
        raise ValidationError("this is neither a phone number nor an account number", field="q")
    upper = raw.upper()
    if " " not in raw and STAFF_CODE_RE.match(upper) and any(c.isdigit() for c in upper) and "." not in upper:
        return Query(raw, QueryKind.STAFF_CODE, upper)
    if " " not in raw and "." in raw:
        host = parse_host(raw.removeprefix("@"))
        if host is not None:
            return Query(raw, QueryKind.DOMAIN, host)
    folded = fold_name(raw)
    if sum(c.isalpha() for c in folded) < MIN_NAME_LETTERS:
        raise ValidationError("type a phone number, an email, a staff code or a name", field="q")
    # one word of letters may also be a staff code without digits: lookup tries that first
    return Query(raw, QueryKind.NAME, folded)


def _staff_where(session: Session, *conditions: Any) -> list[StaffCard]:
    return working_staff_cards(session, *conditions, limit=MAX_NAMESAKES)


def _channel_for(query: Query, channels: list[ChannelRecord], *, exact_only: bool = False) -> ChannelRecord | None:
    """The official channel ``query`` is, or falls under (a mailbox or page of an
    official domain or site). With ``exact_only``, only a channel listed as it is."""
    exact = {
        QueryKind.PHONE: ChannelKind.PHONE,
        QueryKind.EMAIL: ChannelKind.EMAIL,
        QueryKind.URL: ChannelKind.URL,
        QueryKind.DOMAIN: ChannelKind.DOMAIN,
    }.get(query.kind)
    if exact is None:
        return None
    for ch in channels:
        if ch.kind is exact and ch.value == query.normal:
            return ch
    if not exact_only and query.kind in (QueryKind.EMAIL, QueryKind.URL, QueryKind.DOMAIN):
        host = query.normal.rsplit("@", 1)[1] if query.kind is QueryKind.EMAIL else query.normal.split("/", 1)[0]
        for ch in channels:
            if ch.kind is ChannelKind.DOMAIN and under(host, ch.value):
                return ch
            if ch.kind is ChannelKind.URL and "/" not in ch.value and under(host, ch.value):
                return ch  # a whole official site: its host and every page on it
            if (
                query.kind is QueryKind.URL
                and ch.kind is ChannelKind.URL
                and (query.normal == ch.value or query.normal.startswith(ch.value.rstrip("/") + "/"))
            ):
                return ch
    return None


def _impostor(session: Session, query: Query) -> ImpostorRecord | None:
    if query.kind is QueryKind.PHONE:
        return impostor_record(session, phone=query.normal)
    if query.kind is QueryKind.EMAIL:
        return impostor_record(session, email=query.normal)
    if query.kind is QueryKind.ACCOUNT:
        return impostor_record(session, account=query.normal)
    if query.kind in (QueryKind.URL, QueryKind.DOMAIN):
        link = normalize_link(query.text)
        return impostor_record(session, link=link) if link else None
    return None


IDENTIFIER_OF_QUERY = {
    QueryKind.PHONE: IdentifierKind.PHONE,
    QueryKind.EMAIL: IdentifierKind.EMAIL,
    QueryKind.ACCOUNT: IdentifierKind.ACCOUNT,
}


def _public_warnings(session: Session, query: Query, impostor: ImpostorRecord | None) -> tuple[WarningRef, ...]:
    """Published warnings naming the identifier typed. Only a confirmed report can be
    published, so an identifier with no impostor record has none to look for."""
    if query.kind is QueryKind.STAFF_CODE:
        return warnings_naming_staff(session, query.normal)
    if impostor is None:
        return ()
    if query.kind in IDENTIFIER_OF_QUERY:
        return warnings_naming(session, IDENTIFIER_OF_QUERY[query.kind], query.normal)
    if query.kind in (QueryKind.URL, QueryKind.DOMAIN):
        link = normalize_link(query.text)
        return warnings_naming(session, IdentifierKind.LINK, link) if link else ()
    return ()


def _staff_for(session: Session, query: Query) -> tuple[Query, list[StaffCard]]:
    if query.kind is QueryKind.PHONE:
        return query, _staff_where(session, Staff.phone == query.normal)
    if query.kind is QueryKind.EMAIL:
        return query, _staff_where(session, Staff.email == query.normal)
    if query.kind is QueryKind.STAFF_CODE:
        return query, _staff_where(session, Staff.code == query.normal)
    if query.kind is QueryKind.NAME:
        upper = query.text.upper()
        if " " not in query.text and STAFF_CODE_RE.match(upper):
            by_code = _staff_where(session, Staff.code == upper)
            if by_code:
                return Query(query.text, QueryKind.STAFF_CODE, upper), by_code
        return query, _staff_where(session, Staff.name_folded == query.normal)
    return query, []


def lookup(session: Session, text: str, *, now: datetime) -> LookupResult:
    """Look ``text`` up; raise ValidationError if it is not something to look up.

    Official data wins over reports: a staff member's own number answers
    ``official_staff`` even if a report names it (the warning ``also_reported`` says
    so). A suspended staff member is listed with a warning but is not an answer of
    ``official_staff``; departed staff are not listed at all. Whose own phone and
    email the answer may show is the view's rule (``verify.answers``).
    """
    query = classify(text)
    channels = list_channels(session)
    query, staff = _staff_for(session, query)
    # a former or suspended person's own mailbox at an official domain is theirs, not
    # the Centre's: it is an official channel only if listed as one itself
    personal = query.kind is QueryKind.EMAIL and held_by_former_or_suspended(session, Staff.email == query.normal)
    channel = _channel_for(query, channels, exact_only=personal)
    impostor = _impostor(session, query)
    warnings: list[LookupWarning] = []
    active = [s for s in staff if s.status is StaffStatus.ACTIVE]
    if query.kind is QueryKind.NAME and staff:
        warnings.append(LookupWarning(WarningCode.NAMESAKES))
    if any(s.status is StaffStatus.SUSPENDED for s in staff):
        warnings.append(LookupWarning(WarningCode.STAFF_SUSPENDED))
    if active:
        answer = Answer.OFFICIAL_STAFF
    elif channel is not None:
        answer = Answer.OFFICIAL_CHANNEL
    elif impostor is not None:
        answer = Answer.REPORTED_IMPOSTOR
    else:
        answer = Answer.UNKNOWN
    if answer in (Answer.OFFICIAL_STAFF, Answer.OFFICIAL_CHANNEL) and impostor is not None:
        warnings.append(LookupWarning(WarningCode.ALSO_REPORTED))
    if answer is not Answer.OFFICIAL_STAFF and channel is None:
        if query.kind is QueryKind.EMAIL:
            warnings.extend(email_warnings(query.normal, channels))
        elif query.kind in (QueryKind.URL, QueryKind.DOMAIN):
            warnings.extend(host_warnings(query.normal.split("/", 1)[0], channels))
    return LookupResult(
        query=query,
        answer=answer,
        checked_at=now,
        staff=tuple(staff),
        channel=channel,
        impostor=impostor,
        warnings=tuple(warnings),
        official_contacts=contact_order(channels),
        public_warnings=_public_warnings(session, query, impostor),
    )
