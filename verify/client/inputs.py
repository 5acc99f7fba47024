"""What the client is asked to check, read: a token, a QR URL, a photo of a card or
a text file holding one, or bytes; then what it presents (``verify.core.claims
.read_presented``: the token, or the other site a URL points at) and the token
parsed strictly.

Everything here reads attacker-controlled input, so each step raises only
``InputError`` (the input cannot be read: exit 2) or ``MalformedTokenError``
(what was read is not a credential: the verdict ``malformed``).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from keys import jose
from keys.contract import CREDENTIAL_TYPS, MAX_CARD_PHOTO_BYTES, MAX_PRESENTED_CHARS
from keys.errors import MalformedTokenError
from verify.client.errors import InputError

MAX_NAME_SHOWN = 200  # of a file name quoted in a message
_FILE_NAME = re.compile(r"\.(?:jpe?g|png|webp|txt)$", re.IGNORECASE)

Checkable = str | bytes | bytearray | Path


def read_text(value: Checkable) -> str:
    """The text of a token or URL, or of the QR code in an image file (or of a small
    text file). Raise InputError when a file cannot be read or holds no QR code."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return ""  # not text: malformed
    if not isinstance(value, str | Path):
        raise InputError("What was given to check is neither text nor a file.")
    path = value if isinstance(value, Path) else as_file(value)
    if path is None:
        assert isinstance(value, str)  # noqa: S101  # a Path is never None above
        if _FILE_NAME.search(value.strip()):
            # a token never ends like this: a mistyped file name, not a credential
            raise InputError("The file {path} does not exist.", path=value.strip()[:MAX_NAME_SHOWN])
        return value
    shown = str(path)[:MAX_NAME_SHOWN]
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CARD_PHOTO_BYTES + 1)
    except OSError as exc:
        raise InputError("Cannot read the file {path}: {reason}", path=shown, reason=exc.strerror) from exc
    except ValueError as exc:  # a NUL byte in a name given through the library
        raise InputError("The file {path} does not exist.", path=shown) from exc
    return _qr_text(data, shown)


def _qr_text(data: bytes, shown: str) -> str:
    from verify.core.qrdecode import NotAnImage, QrDecodeError, decode_qr

    try:
        with warnings.catch_warnings():
            # Pillow warns of a photo's damaged EXIF block and reads on; the QR code is
            # usually intact, and a warning (an error where warnings are errors) is no answer
            warnings.simplefilter("ignore", UserWarning)
            return decode_qr(data)
    except NotAnImage as exc:
        if len(data) <= MAX_PRESENTED_CHARS:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        raise InputError("{path} is neither an image of a card nor a text file.", path=shown) from exc
    except QrDecodeError as exc:
        raise InputError("No QR code could be read in {path}: {reason}", path=shown, reason=exc.detail) from exc
    except Exception as exc:
        # the image libraries parse attacker-made bytes and may fail in ways their
        # documentation does not list; that is an unreadable photo, never a verdict
        raise InputError("{path} is neither an image of a card nor a text file.", path=shown) from exc


def as_file(text: str) -> Path | None:
    """``text`` as the path of an existing file, if it can only be that."""
    stripped = text.strip()
    if not stripped or len(stripped) >= MAX_PRESENTED_CHARS or "://" in stripped or "\n" in stripped:
        return None
    candidate = Path(stripped)
    try:
        return candidate if candidate.is_file() else None
    except (OSError, ValueError):  # a name too long or with a NUL byte: a token, not a file
        return None


def parse_credential(token: str) -> jose.ParsedToken:
    """The token parsed by ``keys.jose.parse_token`` as a staff card or a letter,
    each segment also in its one canonical base64url spelling. Raise
    MalformedTokenError.

    The last character of a segment carries spare bits that decoders ignore: a
    signature edited there still decodes to the same bytes and would verify, so an
    edited token would be judged like the original."""
    parsed = jose.parse_token(token, typs=CREDENTIAL_TYPS)
    for segment in parsed.raw.split("."):
        if jose.b64url_encode(jose.b64url_decode(segment)) != segment:
            raise MalformedTokenError("a segment is not in canonical base64url")
    return parsed
