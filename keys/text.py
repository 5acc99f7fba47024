"""How people's text is compared and shown, written once for the server and the
offline client: Unicode normal form, names folded without diacritics, phone numbers
(Viet Nam by default) and email addresses in one normal form each, and a stored
number written the way people read it. Pure functions: nothing here raises for bad
input; ``None`` says "not one of these"."""

from __future__ import annotations

import functools
import re
import unicodedata
from urllib.parse import SplitResult, urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "VN"  # the region of numbers typed without a country code
MAX_PHONE_INPUT = 32
MAX_EMAIL = 254  # RFC 5321 path limit


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold_name(text: str) -> str:
    """Lower case, without diacritics, single-spaced: "Nguyễn Văn Đức" -> "nguyen van duc"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.casefold().split())


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


def web_address(value: str, *, max_len: int) -> tuple[SplitResult, str] | None:
    """An http(s) address typed with or without its scheme, split, with its host
    (lower case, no trailing dot); None when it is not one, has spaces, or is longer
    than ``max_len``."""
    text = value.strip()
    if not text or len(text) > max_len or any(c.isspace() for c in text):
        return None
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    return (parts, host) if parts.scheme.lower() in ("http", "https") else None


@functools.lru_cache(maxsize=4096)  # parsing costs ~0.1 ms and the verify page shows it every time
def display_phone(e164: str) -> str:
    """Viet Nam numbers the national way (0912 345 678); others internationally.
    Returns ``e164`` unchanged when it is not a number."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == DEFAULT_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
