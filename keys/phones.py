"""How a phone number in E.164, as the registry stores it and the signed roster
carries it, is written for people: Viet Nam numbers the national way. Here, below
``registry`` and ``verify``, so that the server's pages and the offline client
(which imports neither Flask nor the registry) write every number alike."""

from __future__ import annotations

import functools

import phonenumbers

DEFAULT_REGION = "VN"  # the region of numbers typed without a country code


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
