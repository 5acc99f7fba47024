"""Normalisation of the identifiers people type: phone numbers (Viet Nam by default),
emails, staff codes and names without diacritics. Shared by the registry, lookups
and reports so that every side compares the same forms."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from keys.phones import DEFAULT_REGION
from keys.phones import display_phone as display_phone  # re-exported: written once, for the client too
from registry.errors import N_, ValidationError

MAX_PHONE_INPUT = 32
MAX_EMAIL = 254  # RFC 5321 path limit
MAX_NAME = 200
STAFF_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,31}$")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_text(value: str, *, field: str, max_len: int, required: bool = True) -> str:
    """Trim, NFC-normalise and bound a free-text field; raise ValidationError."""
    text = nfc(" ".join(value.split()))
    if required and not text:
        raise ValidationError(N_("{field} is required"), field=field, params={"field": field})
    if len(text) > max_len:
        raise ValidationError(
            N_("{field} is longer than {max_len} characters"), field=field, params={"field": field, "max_len": max_len}
        )
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise ValidationError(N_("{field} contains control characters"), field=field, params={"field": field})
    return text


def fold_name(text: str) -> str:
    """Lower case, without diacritics, single-spaced: "Nguyễn Văn Đức" -> "nguyen van duc"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.casefold().split())


def normalize_code(value: str) -> str:
    """A staff code in its stored form (upper case); raise ValidationError."""
    code = value.strip().upper()
    if not STAFF_CODE_RE.match(code):
        raise ValidationError(N_("staff code must be 2-32 letters, digits, '.', '_' or '-'"), field="code")
    return code


def parse_phone(value: str) -> str | None:
    """E.164 form of a phone number typed any common way, or None if it is not one.

    0912 345 678, +84 912 345 678 and 84912345678 are one number.
    """
    text = value.strip()
    if not text or len(text) > MAX_PHONE_INPUT:
        return None
    digits = re.sub(r"[\s().-]", "", text)
    if not re.fullmatch(r"\+?\d{6,15}", digits):
        return None
    candidates = [digits]
    if digits.startswith("84") and not digits.startswith("+"):
        candidates.insert(0, "+" + digits)  # 84912345678 typed without the plus
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def normalize_phone(value: str, *, field: str = "phone") -> str:
    phone = parse_phone(value)
    if phone is None:
        raise ValidationError(N_("{field} is not a valid phone number"), field=field, params={"field": field})
    return phone


def parse_email(value: str) -> str | None:
    """Case-folded email address, or None if it is not a syntactically valid one."""
    text = value.strip()
    if not text or len(text) > MAX_EMAIL or "@" not in text:
        return None
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.casefold()


def normalize_email(value: str, *, field: str = "email") -> str:
    email = parse_email(value)
    if email is None:
        raise ValidationError(N_("{field} is not a valid email address"), field=field, params={"field": field})
    return email
