"""What an officer sends as a report (the form or the JSON API), checked before
anything is stored: every field bounded and cleaned, free text kept as typed (NFC,
trimmed) but without invisible characters, the channel one of the listed ways, the
amount and the date plausible. Pure: no database, no Flask; every refusal is a
message id for the edge to translate."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from keys.contract import VN_TZ
from keys.errors import N_, Message
from keys.text import parse_email, parse_phone
from verify.errors import ReportInputError, SpamError
from verify.reports.identifiers import normalize_account
from verify.reports.models import ReportChannel

MAX_AMOUNT_VND = 10**13  # ten thousand billion dong: far above any real demand, below bigint
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones; an event cannot be later than that
HONEYPOT = "website"  # hidden from people by CSS; bots fill every field

# field -> (maximum length, required); lengths are characters after trimming
SHORT_FIELDS: dict[str, tuple[int, bool]] = {
    "claimed_name": (200, False),
    "claimed_title": (200, False),
    "claimed_unit": (200, False),
    "staff_code": (64, False),
    "phone": (32, False),
    "email": (254, False),
    "social_link": (500, False),
    "bank_account": (100, False),
    "reporter_agency": (200, True),
    "reporter_contact": (200, True),
}
LONG_FIELDS: dict[str, tuple[int, bool]] = {
    "request_text": (4000, True),
    "evidence_text": (5000, False),
}
OTHER_FIELDS = ("channel", "amount_vnd", "occurred_at", "publish_agency", HONEYPOT, "lang")
ALL_FIELDS = (*SHORT_FIELDS, *LONG_FIELDS, *OTHER_FIELDS)

LABELS = {
    "channel": N_("How they contacted you"),
    "claimed_name": N_("Name they gave"),
    "claimed_title": N_("Title they gave"),
    "claimed_unit": N_("Unit they gave"),
    "staff_code": N_("Staff code they gave"),
    "phone": N_("Their phone number"),
    "email": N_("Their email"),
    "social_link": N_("Their Zalo, Facebook or other account"),
    "bank_account": N_("Bank account they gave"),
    "request_text": N_("What they asked for"),
    "amount_vnd": N_("Amount asked (VND)"),
    "occurred_at": N_("Date of contact"),
    "evidence_text": N_("Other details"),
    "reporter_agency": N_("Your agency"),
    "reporter_contact": N_("Contact person (name and phone or email)"),
    "evidence": N_("Evidence files"),
    "publish_agency": N_("The Centre may name my agency in a public warning about this impostor"),
    HONEYPOT: N_("Leave this empty"),
}
CHANNEL_LABELS = {
    ReportChannel.PHONE: N_("Phone call or SMS"),
    ReportChannel.EMAIL: N_("Email"),
    ReportChannel.ZALO: N_("Zalo"),
    ReportChannel.FACEBOOK: N_("Facebook"),
    ReportChannel.LETTER: N_("Letter or document"),
    ReportChannel.IN_PERSON: N_("In person"),
    ReportChannel.OTHER: N_("Other"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportInput:
    """A validated report, ready to store: its fields are the report's columns, by
    what they tell (who the impostor said they were, how they reached the agency,
    what they wanted, who reports). Free text is kept as typed (NFC, trimmed)."""

    claimed_name: str | None = None
    claimed_title: str | None = None
    claimed_unit: str | None = None
    staff_code: str | None = None
    channel: ReportChannel
    phone: str | None = None
    email: str | None = None
    social_link: str | None = None
    request_text: str
    amount_vnd: int | None = None
    bank_account: str | None = None
    occurred_at: datetime | None = None
    evidence_text: str | None = None
    reporter_agency: str
    reporter_contact: str
    publish_agency: bool = False
    language: str = "vi"


def _label(name: str) -> Message:
    """A field's label, as the parameter of a message about it."""
    return Message(LABELS[name])


def _has_controls(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cs") and c not in allowed for c in text)


def _has_format_characters(text: str) -> bool:
    """Unicode format characters (Cf): bidi overrides and isolates, zero-width spaces
    and joiners, soft hyphens. Invisible, they can make a phone number or a name read
    otherwise than it is stored; lookups refuse them too."""
    return any(unicodedata.category(c) == "Cf" for c in text)


def _text(
    value: Any, name: str, max_len: int, required: bool, *, multiline: bool
) -> tuple[str | None, tuple[str, Message] | None]:
    """(clean value, None) or (None, (code, message))."""
    return check_text(value, _label(name), max_len, required, multiline=multiline)


def check_text(
    value: Any, label: Message, max_len: int, required: bool, *, multiline: bool
) -> tuple[str | None, tuple[str, Message] | None]:
    """Free text as the reports keep it (NFC, trimmed, no invisible characters):
    (clean value, None) or (None, (code, message about ``label``))."""
    if value is None or value == "":
        if required:
            return None, ("required", Message(N_("%(label)s is required."), {"label": label}))
        return None, None
    if not isinstance(value, str):
        return None, ("wrong_type", Message(N_("%(label)s must be text."), {"label": label}))
    if multiline:
        text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
        bad = _has_controls(text, "\n\t")
    else:
        text = unicodedata.normalize("NFC", " ".join(value.split()))
        bad = _has_controls(text)
    if not text:
        if required:
            return None, ("required", Message(N_("%(label)s is required."), {"label": label}))
        return None, None
    if len(text) > max_len:
        return None, (
            "too_long",
            Message(N_("%(label)s is too long: at most %(max)d characters."), {"label": label, "max": max_len}),
        )
    if bad:
        return None, (
            "control_characters",
            Message(N_("%(label)s contains invisible control characters."), {"label": label}),
        )
    if _has_format_characters(text):
        return None, (
            "format_characters",
            Message(
                N_(
                    "%(label)s contains invisible formatting characters (such as direction marks or zero-width "
                    "spaces). Delete them or type the text again."
                ),
                {"label": label},
            ),
        )
    return text, None


def _amount(value: Any) -> tuple[int | None, tuple[str, Message] | None]:
    label = _label("amount_vnd")
    if value is None or value == "":
        return None, None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None, ("wrong_type", Message(N_("%(label)s must be a whole number of dong."), {"label": label}))
    if isinstance(value, str):
        digits = re.sub(r"[\s.,]", "", value.strip().removesuffix("đ").removesuffix("VND").strip())
        if not digits.isascii() or not digits.isdigit() or len(digits) > 16:
            return None, (
                "invalid_amount",
                Message(N_("%(label)s must be a whole number of dong."), {"label": label}),
            )
        value = int(digits)
    if not 0 <= value <= MAX_AMOUNT_VND:
        return None, ("invalid_amount", Message(N_("%(label)s is not a plausible amount."), {"label": label}))
    return value, None


def _when(value: Any, now: datetime) -> tuple[datetime | None, tuple[str, Message] | None]:
    """YYYY-MM-DD or YYYY-MM-DDTHH:MM (Viet Nam time), or ISO 8601 with an offset."""
    label = _label("occurred_at")
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        return None, ("wrong_type", Message(N_("%(label)s must be a date like 2026-11-20."), {"label": label}))
    text = value.strip()
    try:
        if len(text) > 32:
            raise ValueError(text)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(12), tzinfo=VN_TZ)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=VN_TZ)
    except ValueError:
        return None, (
            "invalid_date",
            Message(N_("%(label)s must be a date like 2026-11-20."), {"label": label}),
        )
    moment = moment.astimezone(UTC)
    if moment < EARLIEST_EVENT or moment > now + FUTURE_SLACK:
        return None, (
            "invalid_date",
            Message(N_("%(label)s cannot be in the future or before 2000."), {"label": label}),
        )
    return moment, None


FORM_YES = frozenset({"1", "on", "yes", "true"})
FORM_NO = frozenset({"", "0", "off", "no", "false"})


def _consent(value: Any) -> tuple[bool, tuple[str, Message] | None]:
    """A yes/no: a JSON boolean, or a form checkbox (absent, "on", "1", "true")."""
    if value is None or isinstance(value, bool):
        return bool(value), None
    if isinstance(value, str) and value.strip().lower() in FORM_YES | FORM_NO:
        return value.strip().lower() in FORM_YES, None
    return False, (
        "invalid_choice",
        Message(N_("%(label)s: answer yes or no."), {"label": _label("publish_agency")}),
    )


def validate_report(
    raw: Mapping[str, Any], *, now: datetime, language: str = "vi", strict: bool = False
) -> ReportInput:
    """Check every field of a report; returns it cleaned or raises ReportInputError
    with a message per bad field. ``strict`` (the JSON API) also refuses unknown
    fields. A filled honeypot raises SpamError. Touches no database."""
    errors: dict[str, tuple[str, Message]] = {}
    if strict:
        unknown = sorted(str(k) for k in raw if k not in ALL_FIELDS)  # a nameless multipart part is None
        if unknown:
            name = str(unknown[0])[:64]
            errors[name] = ("unknown_field", Message(N_("%(name)s is not a field of a report."), {"name": name}))
    if raw.get(HONEYPOT):
        raise SpamError(
            N_("This report looks automated and was not accepted. Leave the last field empty."), field=HONEYPOT
        )
    values: dict[str, Any] = {}
    channel_raw = raw.get("channel")
    if channel_raw in (None, ""):
        errors["channel"] = ("required", Message(N_("%(label)s is required."), {"label": _label("channel")}))
    elif not isinstance(channel_raw, str) or channel_raw not in ReportChannel.__members__.values():
        errors["channel"] = (
            "invalid_choice",
            Message(N_("%(label)s: choose one of the listed ways."), {"label": _label("channel")}),
        )
    else:
        values["channel"] = ReportChannel(channel_raw)
    for name, (max_len, required) in SHORT_FIELDS.items():
        values[name], problem = _text(raw.get(name), name, max_len, required, multiline=False)
        if problem:
            errors[name] = problem
    for name, (max_len, required) in LONG_FIELDS.items():
        values[name], problem = _text(raw.get(name), name, max_len, required, multiline=True)
        if problem:
            errors[name] = problem
    if values.get("phone") and parse_phone(values["phone"]) is None:
        errors["phone"] = (
            "invalid_phone",
            Message(N_("%(label)s: not a valid phone number."), {"label": _label("phone")}),
        )
    if values.get("email") and parse_email(values["email"]) is None:
        errors["email"] = (
            "invalid_email",
            Message(N_("%(label)s: not a valid email address."), {"label": _label("email")}),
        )
    if values.get("bank_account") and normalize_account(values["bank_account"]) is None:
        errors["bank_account"] = (
            "invalid_account",
            Message(
                N_("%(label)s: write the account number (6 to 34 digits), the bank name may follow."),
                {"label": _label("bank_account")},
            ),
        )
    values["amount_vnd"], problem = _amount(raw.get("amount_vnd"))
    if problem:
        errors["amount_vnd"] = problem
    values["occurred_at"], problem = _when(raw.get("occurred_at"), now)
    if problem:
        errors["occurred_at"] = problem
    values["publish_agency"], problem = _consent(raw.get("publish_agency"))
    if problem:
        errors["publish_agency"] = problem
    if errors:
        raise ReportInputError(errors)
    return ReportInput(language=language, **values)
