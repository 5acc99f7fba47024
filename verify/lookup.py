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

import contextlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from registry.channels import FREE_MAIL_DOMAINS, ChannelRecord, contact_order, list_channels, parse_host, split_url
from registry.errors import ValidationError
from registry.models import Staff, StaffStatus
from registry.models_lookup import ChannelKind
from registry.normalize import STAFF_CODE_RE, fold_name, nfc, parse_email, parse_phone
from registry.queries import StaffCard, held_by_former_or_suspended, working_staff_cards
from verify.identifiers import ImpostorRecord, impostor_record, normalize_account, normalize_link

MAX_QUERY = 300  # longer than any phone, email, name or profile link an officer types
MIN_NAME_LETTERS = 2
MAX_NAMESAKES = 50  # a name search lists every namesake; no real name has more at the Centre
# Words impostors put into addresses to look like the Board or the Centre, compared
# after folding (no diacritics, letters and digits only). "tdkt" is "thi đua khen thưởng".
CENTRE_NAME_MARKERS = (
    "tdkt",
    "thiduakhenthuong",
    "banthidua",
    "khenthuong",
    "dienhinhtientien",
    "trungtamthongtin",
)
# Government domains are handed out only to agencies, so a provincial board's
# "btdkt@khanhhoa.gov.vn" uses the words legitimately; only similarity counts there.
GOVERNMENT_SUFFIX = ".gov.vn"
MIN_LABEL_MARKER = 4  # an official host's first label shorter than this is too common to flag
# Characters that render like others in common fonts, folded before comparing hosts.
CONFUSABLES = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "i": "l",
        "|": "l",
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "l",
        "ԁ": "d",
        "ո": "n",
        "ս": "u",
    }
)
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


class WarningCode(StrEnum):
    NAMESAKES = "namesakes"  # a name is no proof: call back on the official number
    STAFF_SUSPENDED = "staff_suspended"
    LOOKALIKE_DOMAIN = "lookalike_domain"  # resembles an official domain but is not one
    USES_CENTRE_NAME = "uses_centre_name"  # the Centre's name at a free-mail provider
    ALSO_REPORTED = "also_reported"  # an official contact that reports also name


@dataclass(frozen=True, slots=True)
class LookupWarning:
    code: WarningCode
    resembles: str | None = None


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


def _skeleton(host: str) -> str:
    """The host as it looks: Unicode labels decoded, confusable characters folded."""
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(UnicodeError):  # an invalid A-label is compared as typed
                label = label.encode("ascii").decode("idna")
        labels.append(label)
    text = unicodedata.normalize("NFKD", ".".join(labels).lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return text.replace("rn", "m").replace("vv", "w").translate(CONFUSABLES)


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (edits and swaps), stopping above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _squash(text: str) -> str:
    return "".join(c for c in fold_name(text) if c.isalnum())


def _official_hosts(channels: list[ChannelRecord]) -> set[str]:
    hosts = set()
    for ch in channels:
        if ch.kind is ChannelKind.DOMAIN:
            hosts.add(ch.value)
        elif ch.kind is ChannelKind.URL:
            hosts.add(ch.value.split("/", 1)[0])
        elif ch.kind is ChannelKind.EMAIL:
            domain = ch.value.rsplit("@", 1)[1]
            if domain not in FREE_MAIL_DOMAINS:
                hosts.add(domain)
    return hosts


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def host_warnings(host: str, channels: list[ChannelRecord]) -> list[LookupWarning]:
    """Why ``host`` (not itself official) may be imitating the Centre."""
    official = _official_hosts(channels)
    if any(_under(host, domain) for domain in official):
        return []
    seen = _skeleton(host)
    for domain in sorted(official):
        target = _skeleton(domain)
        limit = 1 if len(target) < 8 else 2
        if seen == target or _distance(seen, target, limit) <= limit:
            return [LookupWarning(WarningCode.LOOKALIKE_DOMAIN, resembles=domain)]
        # the official domain's name inside another domain: tdkt.gov.vn.com, tdkt-gov.vn
        head = target.split(".", 1)[0]
        if len(head) >= MIN_LABEL_MARKER and not host.endswith(GOVERNMENT_SUFFIX) and _squash(head) in _squash(seen):
            return [LookupWarning(WarningCode.LOOKALIKE_DOMAIN, resembles=domain)]
    if not host.endswith(GOVERNMENT_SUFFIX):
        squashed = _squash(seen)
        if any(marker.translate(CONFUSABLES) in squashed for marker in CENTRE_NAME_MARKERS):
            closest = min(
                sorted(official), key=lambda d: _distance(seen, _skeleton(d), len(seen) + len(d)), default=None
            )
            return [LookupWarning(WarningCode.LOOKALIKE_DOMAIN, resembles=closest)]
    return []


def email_warnings(email: str, channels: list[ChannelRecord]) -> list[LookupWarning]:
    local, domain = email.rsplit("@", 1)
    if domain in FREE_MAIL_DOMAINS:
        squashed = _squash(local.translate(CONFUSABLES))
        if any(marker.translate(CONFUSABLES) in squashed for marker in CENTRE_NAME_MARKERS):
            return [LookupWarning(WarningCode.USES_CENTRE_NAME)]
        return []
    return host_warnings(domain, channels)


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
            if ch.kind is ChannelKind.DOMAIN and _under(host, ch.value):
                return ch
            if ch.kind is ChannelKind.URL and "/" not in ch.value and _under(host, ch.value):
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
    )
