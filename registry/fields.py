"""The fields every room validates the same way: free text (trimmed, NFC, bounded,
no control characters), staff codes, phone numbers and email addresses in their
stored forms. Each raises ValidationError naming the field; the pure normalisers
underneath are ``keys.text``, which the offline client shares."""

from __future__ import annotations

import re
import unicodedata

from keys.errors import N_
from keys.text import nfc, parse_email, parse_phone
from registry.errors import ValidationError

MAX_NAME = 200
STAFF_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,31}$")


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


def normalize_code(value: str) -> str:
    """A staff code in its stored form (upper case); raise ValidationError."""
    code = value.strip().upper()
    if not STAFF_CODE_RE.match(code):
        raise ValidationError(N_("staff code must be 2-32 letters, digits, '.', '_' or '-'"), field="code")
    return code


def normalize_phone(value: str, *, field: str = "phone") -> str:
    phone = parse_phone(value)
    if phone is None:
        raise ValidationError(N_("{field} is not a valid phone number"), field=field, params={"field": field})
    return phone


def normalize_email(value: str, *, field: str = "email") -> str:
    email = parse_email(value)
    if email is None:
        raise ValidationError(N_("{field} is not a valid email address"), field=field, params={"field": field})
    return email
