"""Find and decode the QR code in a photo of a staff card.

No Flask and no database: the offline verifier client imports this module too. The
input is attacker-controlled bytes, so every step is bounded before it costs memory:
the byte size first, then the image format (JPEG, PNG, WebP only, identified by
content, never by name), then the pixel count read from the header before any pixel
is decoded (a small file can declare a huge canvas: a decompression bomb). Every
failure is one of a small exception family with a stable ``code`` and an HTTP-like
``status``, so a web view and a command line can both report it plainly.
"""

from __future__ import annotations

import io
from typing import ClassVar

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "NoQrCode",
    "NotAnImage",
    "QrDecodeError",
    "TooLarge",
    "TruncatedImage",
    "decode_qr",
    "decode_qr_all",
]

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # a phone photo of a card; bounds upload and parsing work
# 40 megapixels: above any phone camera's default output (12-24 MP, 48 MP binned to 12),
# and at one byte per pixel in grey well within a worker's memory.
MAX_IMAGE_PIXELS = 40_000_000
# Only what phones and scanners produce; Pillow would otherwise also try formats
# (EPS, PSD, TGA...) whose parsers we have no reason to expose.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Above this long side the decoder also gets a downscaled copy first: a card QR in a
# 4000 px photo is large, and zxing works faster and better on a smaller image.
DOWNSCALE_LONG_SIDE = 1600
_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # never a 1-D barcode on the card


class QrDecodeError(Exception):
    """Base of the photo-decoding errors; ``code`` is stable, ``status`` the HTTP status."""

    code: ClassVar[str] = "qr_decode_error"
    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooLarge(QrDecodeError):
    """More bytes or more pixels than a card photo needs."""

    code = "too_large"
    status = 413


class NotAnImage(QrDecodeError):
    """Not a JPEG, PNG or WebP image (judged by content)."""

    code = "not_an_image"
    status = 415


class TruncatedImage(QrDecodeError):
    """A recognised image whose pixel data is cut short or damaged."""

    code = "truncated_image"
    status = 400


class NoQrCode(QrDecodeError):
    """A readable image in which no QR code was found."""

    code = "no_qr_code"
    status = 422


def _open(data: bytes) -> Image.Image:
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise NotAnImage("the file is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard fires at twice its default limit; a warning turned into an
        # error (as under pytest) means the same thing.
        raise TooLarge("the image has too many pixels") from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage("the file is not a JPEG, PNG or WebP image") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise NotAnImage("the file is not a readable image") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise NotAnImage("the image has no pixels")
    if width * height > MAX_IMAGE_PIXELS:
        raise TooLarge("the image has too many pixels")
    return image


def _load_grey(image: Image.Image) -> Image.Image:
    """Decode the pixels (the expensive, fallible step) into one grey channel."""
    try:
        if image.format == "JPEG" and max(image.size) > 2 * DOWNSCALE_LONG_SIDE:
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: less memory and time, and the
            # QR of a card is still hundreds of pixels wide.
            image.draft("L", (DOWNSCALE_LONG_SIDE, DOWNSCALE_LONG_SIDE))
        image.load()
        # Phones store rotation as EXIF; honouring it matters for mirrored selfies,
        # which the decoder's own rotation search does not cover.
        upright = ImageOps.exif_transpose(image)
        return upright.convert("L")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLarge("the image has too many pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise TruncatedImage("the image is truncated or damaged") from exc


def _candidates(grey: Image.Image) -> list[Image.Image]:
    """The grey image, and for large photos a reduced copy tried first."""
    long_side = max(grey.size)
    if long_side <= DOWNSCALE_LONG_SIDE:
        return [grey]
    scale = DOWNSCALE_LONG_SIDE / long_side
    small = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))), Image.Resampling.BOX)
    return [small, grey]


def decode_qr_all(data: bytes) -> list[str]:
    """Every QR code text found in the image ``data``, in the decoder's order.

    Raises ``TooLarge``, ``NotAnImage``, ``TruncatedImage`` or ``NoQrCode``; never
    returns an empty list.
    """
    grey = _load_grey(_open(data))
    for candidate in _candidates(grey):
        found = zxingcpp.read_barcodes(candidate, formats=_QR_ONLY)
        texts = [b.text for b in found if b.valid and b.text]
        if texts:
            return list(dict.fromkeys(texts))
    raise NoQrCode("no QR code was found in the image")


def decode_qr(data: bytes) -> str:
    """The text of the QR code in the image ``data`` (the first, if there are several).

    Raises ``TooLarge``, ``NotAnImage``, ``TruncatedImage`` or ``NoQrCode``.
    """
    return decode_qr_all(data)[0]
