"""IETF OAuth Token Status List encoding (draft-ietf-oauth-status-list), 2 bits per
entry: 0 valid, 1 revoked (invalid), 2 suspended.

Pure functions over byte buffers; storage and signing are the callers' business.
"""

from __future__ import annotations

import zlib
from enum import IntEnum

from keys.errors import MalformedTokenError
from keys.jose import b64url_decode, b64url_encode

BITS = 2
ENTRIES_PER_BYTE = 8 // BITS
MAX_LIST_BYTES = 1 << 20  # refuse inflating anything larger: a decompression bomb


class EntryStatus(IntEnum):
    VALID = 0
    REVOKED = 1  # "INVALID" in the draft
    SUSPENDED = 2


def empty(size: int) -> bytearray:
    """A buffer for ``size`` entries, all valid."""
    return bytearray((size + ENTRIES_PER_BYTE - 1) // ENTRIES_PER_BYTE)


def set_entry(buf: bytearray, idx: int, status: EntryStatus) -> None:
    byte, slot = divmod(idx, ENTRIES_PER_BYTE)
    shift = slot * BITS
    buf[byte] = (buf[byte] & ~(0b11 << shift)) | (int(status) << shift)


def get_entry(buf: bytes | bytearray, idx: int) -> int:
    """The raw 2-bit value at ``idx`` (the draft reserves 3 for future use)."""
    byte, slot = divmod(idx, ENTRIES_PER_BYTE)
    if idx < 0 or byte >= len(buf):
        raise IndexError("status index out of range")
    return (buf[byte] >> (slot * BITS)) & 0b11


def encode_lst(buf: bytes | bytearray) -> str:
    """``lst``: DEFLATE in ZLIB format, then base64url."""
    return b64url_encode(zlib.compress(bytes(buf), 9))


def decode_lst(lst: str) -> bytes:
    """Inverse of ``encode_lst``, bounded; raise MalformedTokenError."""
    if not isinstance(lst, str):
        raise MalformedTokenError("lst is not a string")
    d = zlib.decompressobj()
    try:
        out = d.decompress(b64url_decode(lst), MAX_LIST_BYTES + 1)
    except zlib.error as exc:
        raise MalformedTokenError("lst is not zlib data") from exc
    if len(out) > MAX_LIST_BYTES or d.unconsumed_tail:
        raise MalformedTokenError("status list too large")
    return out
