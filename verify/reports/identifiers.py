"""Identifiers named by impersonation reports, and the impostor record lookups use.

A report names a phone, an email, a bank account and a social link as the person
typed them; this module turns each into one normal form, so that every written form
of the same number or account matches:

- phone: E.164 (``keys.text.parse_phone``): 0912 345 678, +84 912 345 678
  and 84912345678 are all ``+84912345678``;
- email: case-folded (``keys.text.parse_email``);
- account: the bank account number with spaces, dots and hyphens removed and letters
  upper-cased, 6 to 34 characters (34 is the longest IBAN). A bank name written
  before the number ("Vietcombank 0123 456 789") is dropped: only the last run of
  digits and letters that contains a digit counts;
- link: ``host/path`` of a social profile without scheme, ``www.``/``m.`` prefixes,
  query, fragment or trailing slash, lower-cased (profile names are not case
  sensitive on Facebook, Zalo or TikTok); ``fb.com`` is ``facebook.com``; the one
  query kept is Facebook's ``profile.php?id=N``; a ``zalo.me/<phone>`` link also
  yields that phone.

``impostor_record`` counts only confirmed reports and never says who reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from keys.text import parse_email, parse_phone, web_address
from verify.reports.models import IdentifierKind, Report, ReportIdentifier, ReportStatus

MIN_ACCOUNT = 6  # shorter runs of digits are dates, amounts or branch codes, not accounts
MAX_ACCOUNT = 34  # ISO 13616: the longest IBAN
MAX_LINK_INPUT = 500
MAX_LINK = 300  # the column; a normalised link longer than this is not a profile link
HOST_ALIASES = {"fb.com": "facebook.com", "fb.me": "facebook.com", "facebook.com": "facebook.com"}
DROPPED_HOST_PREFIXES = ("www.", "m.", "mobile.", "web.", "chat.")
HOST_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
ACCOUNT_RUN_RE = re.compile(r"[A-Z0-9]+")
ACCOUNT_SEPARATORS_RE = re.compile(r"(?<=[A-Z0-9])[\s.\-_/]+(?=\d)")  # 0123 456-789: one number
ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class ImpostorRecord:
    """How many confirmed reports name an identifier, and when it was first and last
    seen (the reported time of contact, or the report's time when none was given)."""

    count: int
    first_seen: datetime
    last_seen: datetime


def normalize_account(value: str) -> str | None:
    """The normal form of a bank account number, or None if there is none in ``value``."""
    text = ACCOUNT_SEPARATORS_RE.sub("", value.upper())
    runs: list[str] = [run for run in ACCOUNT_RUN_RE.findall(text) if any(c.isdigit() for c in run)]
    if not runs:
        return None
    # the run with most digits is the number; "VCB0123456789" loses its bank prefix
    account: str = max(runs, key=lambda run: sum(c.isdigit() for c in run)).lstrip(ASCII_UPPER)
    if not MIN_ACCOUNT <= len(account) <= MAX_ACCOUNT:
        return None
    return account


def normalize_link(value: str) -> str | None:
    """The normal form of a social profile link, or None if ``value`` is not a link."""
    found = web_address(value, max_len=MAX_LINK_INPUT)
    if found is None:
        return None
    parts, host = found
    for prefix in DROPPED_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    if not HOST_RE.match(host):
        return None
    host = HOST_ALIASES.get(host, host)
    path = parts.path.rstrip("/").lower()
    if host == "facebook.com" and path == "/profile.php":
        ids = parse_qs(parts.query).get("id", [])
        if len(ids) == 1 and ids[0].isdigit():
            path = f"{path}?id={ids[0]}"
    link = host + path
    return link if len(link) <= MAX_LINK else None


def zalo_phone(link: str) -> str | None:
    """The phone of a normalised ``zalo.me/<phone>`` link (Zalo accounts are phones)."""
    if link.startswith("zalo.me/"):
        return parse_phone(link.removeprefix("zalo.me/"))
    return None


def normalize_identifiers(
    *, phone: str | None = None, email: str | None = None, account: str | None = None, link: str | None = None
) -> list[tuple[IdentifierKind, str]]:
    """The identifiers a report names, each in its normal form, without repeats.

    Values that are not recognisable (a phone that is no number) yield nothing: the
    report keeps what was typed, but only real identifiers are matched later.
    """
    found: list[tuple[IdentifierKind, str]] = []

    def add(kind: IdentifierKind, value: str | None) -> None:
        if value and (kind, value) not in found:
            found.append((kind, value))

    if phone:
        add(IdentifierKind.PHONE, parse_phone(phone))
    if email:
        add(IdentifierKind.EMAIL, parse_email(email))
    if account:
        add(IdentifierKind.ACCOUNT, normalize_account(account))
    if link:
        normal = normalize_link(link)
        add(IdentifierKind.LINK, normal)
        if normal:
            add(IdentifierKind.PHONE, zalo_phone(normal))
    return found


def impostor_record(
    session: Session,
    *,
    phone: str | None = None,
    email: str | None = None,
    account: str | None = None,
    link: str | None = None,
) -> ImpostorRecord | None:
    """The confirmed reports naming any of the given identifiers, or None if none do.

    Inputs must already be in their normal form (phone E.164, email case-folded,
    ``normalize_account``, ``normalize_link``): this is called on every lookup and
    does no parsing. Reports in any other status than confirmed are not counted.
    """
    wanted = [
        (kind, value)
        for kind, value in (
            (IdentifierKind.PHONE, phone),
            (IdentifierKind.EMAIL, email),
            (IdentifierKind.ACCOUNT, account),
            (IdentifierKind.LINK, link),
        )
        if value
    ]
    if not wanted:
        return None
    seen = func.coalesce(Report.occurred_at, Report.created_at)
    # driven from the (kind, value) index, then reports by primary key: the cost is
    # the number of matching identifiers, not the number of confirmed reports
    row = session.execute(
        select(func.count(distinct(Report.id)), func.min(seen), func.max(seen))
        .select_from(ReportIdentifier)
        .join(Report, Report.id == ReportIdentifier.report_id)
        .where(
            or_(*[(ReportIdentifier.kind == kind) & (ReportIdentifier.value == value) for kind, value in wanted]),
            Report.status == ReportStatus.CONFIRMED,
        )
    ).one()
    count, first, last = row
    if not count:
        return None
    return ImpostorRecord(count=int(count), first_seen=_aware(first), last_seen=_aware(last))


def _aware(value: datetime | str) -> datetime:
    """func.min over a UTCDateTime comes back untyped on SQLite (a string there)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
