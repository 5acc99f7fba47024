"""What the command line prints: a verdict, a sync, or why it could not decide, for
people (in their language, dates in Viet Nam time) or as ``--json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from keys.contract import VN_TZ
from keys.text import display_phone
from verify.client.errors import ClientError
from verify.client.results import SyncReport, VerificationResult, check_json
from verify.client.words import (
    LABEL_CENTRE_CONTACTS,
    LABEL_DOCUMENT,
    LABEL_FOREIGN_SITE,
    LABEL_HOLDER,
    LABEL_OFFICIAL_EMAIL,
    LABEL_OFFICIAL_PHONE,
    LABEL_PURPOSE,
    LABEL_SENT_TO,
    LABEL_SERVER,
    LABEL_STAFF_STATUS,
    LABEL_TITLE,
    LABEL_UNIT,
    LABEL_VALID_FROM,
    LABEL_VALID_UNTIL,
    LABEL_VERDICT,
    OWN_CONTACTS_WITHHELD,
    STAFF_STATUS,
    WARNINGS,
    WHAT,
)
from verify.core.callback import shows_own_contacts
from verify.core.texts import EXPLANATIONS, HEADLINES

EXIT_VALID = 0
EXIT_NOT_VALID = 1
EXIT_UNDECIDED = 2


def local_time(value: str | datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Viet Nam time."""
    if value is None:
        return "-"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def age(_: Callable[[str], str], then: datetime | None, now: datetime) -> str:
    if then is None:
        return "-"
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 60:
        return _("{n} minutes ago").format(n=minutes)
    if minutes < 48 * 60:
        return _("{n} hours ago").format(n=minutes // 60)
    return _("{n} days ago").format(n=minutes // (24 * 60))


def error_message(_: Callable[[str], str], exc: ClientError) -> str:
    details = {k: (_(v) if isinstance(v, str) and v in WHAT else v) for k, v in exc.details.items()}
    for name in ("expired", "signed"):
        if isinstance(details.get(name), str):
            details[name] = local_time(str(details[name]))
    return _(exc.template).format(**details)


def say(text: str, out: TextIO) -> None:
    """Print ``text`` even where the stream cannot encode all of it: a lone surrogate
    from an undecodable argument (a file name, a host in a URL), or Vietnamese on a
    console in another code page, is shown escaped rather than stopping the answer."""
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except LookupError:
        encoding = "utf-8"
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    except UnicodeEncodeError:
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    print(text, file=out)


def say_json(value: dict[str, Any], out: TextIO) -> None:
    """Print ``value`` as one JSON object, in plain UTF-8 where the stream takes it,
    else with \\u escapes (which also carry a lone surrogate intact)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode(getattr(out, "encoding", None) or "utf-8")
    except (LookupError, UnicodeEncodeError):
        text = json.dumps(value)
    print(text, file=out)


def print_result(_: Callable[[str], str], result: VerificationResult, out: TextIO) -> None:
    lines = [
        _(HEADLINES[result.verdict]),
        _(EXPLANATIONS[result.verdict]).format(host=result.foreign_host, server=result.server),
        f"{_(LABEL_VERDICT)}: {result.verdict.value}",
    ]
    if result.foreign_host is not None:
        lines.append(f"{_(LABEL_FOREIGN_SITE)}: {result.foreign_host}")
    credential = result.credential_json()
    if credential is not None:
        lines.append(f"{_(LABEL_HOLDER)}: {credential['name']} ({credential['subject']})")
        if result.staff is not None:
            card = result.staff
            lines.append(f"{_(LABEL_TITLE)}: {card.title}")
            lines.append(f"{_(LABEL_UNIT)}: {card.unit}")
            lines.append(f"{_(LABEL_STAFF_STATUS)}: {_(STAFF_STATUS.get(card.status, card.status))}")
            # result.staff holds its own contacts only where verify.core.callback shows them
            if card.phone:
                lines.append(f"{_(LABEL_OFFICIAL_PHONE)}: {display_phone(card.phone)}")
            if card.email:
                lines.append(f"{_(LABEL_OFFICIAL_EMAIL)}: {card.email}")
        kind = _("letter of introduction") if result.kind == "assignment" else _("staff card")
        lines.append(f"{_(LABEL_DOCUMENT)}: {kind}")
        if "agency" in credential:
            lines.append(f"{_(LABEL_SENT_TO)}: {credential['agency']}")
        if "purpose" in credential:
            lines.append(f"{_(LABEL_PURPOSE)}: {credential['purpose']}")
        if credential["not_before"]:
            lines.append(f"{_(LABEL_VALID_FROM)}: {local_time(credential['not_before'])}")
        lines.append(f"{_(LABEL_VALID_UNTIL)}: {local_time(credential['expires_at'])}")
    lines.extend(callback_lines(_, result))
    mode = _("online") if result.online else _("offline")
    lines.append(f"{_(LABEL_SERVER)}: {result.server} ({mode})")
    data = result.data
    if data.keyset_fetched_at is not None:
        lines.append(
            _("Keys fetched {age}; status list fetched {list_age}, valid until {until}.").format(
                age=age(_, data.keyset_fetched_at, result.checked_at),
                list_age=age(_, data.status_list_fetched_at, result.checked_at),
                until=local_time(data.status_list_expires_at),
            )
        )
    if data.stale:
        lines.append(_("WARNING: decided on data past its expiry (--allow-stale)."))
    lines.extend(_(WARNINGS[w]) for w in result.warnings if w in WARNINGS)
    say("\n".join(lines), out)


def callback_lines(_: Callable[[str], str], result: VerificationResult) -> list[str]:
    """The Centre's channels to call back on, when the answer gives none of the
    person's own (the verification page's words)."""
    lines = []
    if result.staff is not None and not shows_own_contacts(result.staff, valid=result.valid):
        lines.append(_(OWN_CONTACTS_WITHHELD))
    if result.official_contacts:
        lines.append(f"{_(LABEL_CENTRE_CONTACTS)}:")
        lines.extend(f"  {c.label}: {c.display}" if c.label else f"  {c.display}" for c in result.official_contacts)
    return lines


def print_sync(_: Callable[[str], str], report: SyncReport, out: TextIO) -> None:
    lines = [
        _("Synced {server}.").format(server=report.server),
        _("Root key: {kid} ({source}).").format(
            kid=report.root_thumbprint,
            source=_("given with --trust") if report.root_source == "trust" else _("pinned on first use"),
        ),
        _("{keys} signing keys, status lists {lists}, {staff} people in the roster.").format(
            keys=report.keys, lists=", ".join(map(str, report.status_lists)) or "-", staff=report.roster_staff
        ),
    ]
    say("\n".join(lines), out)


def error_json(exc: ClientError, message: str, server: str | None, now: datetime, command: str) -> dict[str, Any]:
    if command == "sync":
        return {
            "server": server,
            "root": None,
            "keys": None,
            "status_lists": None,
            "roster_staff": None,
            "synced_at": None,
            "warnings": [],
            "error": {"code": exc.code, "message": message},
        }
    return {
        **check_json("verdict", None, EXIT_UNDECIDED, server, None, now),
        "kind": None,
        "credential": None,
        "staff": None,
        "official_contacts": [],
        "foreign_host": None,
        "data": None,
        "warnings": [],
        "error": {"code": exc.code, "message": message},
    }
