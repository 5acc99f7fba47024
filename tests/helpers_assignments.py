"""Helpers shared by the assignment and letter tests."""

from __future__ import annotations

import io
from datetime import datetime

from factories import AGENCY, DOMAIN, NOW, PURPOSE, assign

# the builders live in factories.py; their names stay importable from here
__all__ = ["AGENCY", "DOMAIN", "PURPOSE", "app_now", "assign", "decode_qr"]


def app_now() -> datetime:
    """Tokens checked over HTTP are checked at the app's clock, which the tests stop
    at NOW, so they are issued at it."""
    moment: datetime = NOW
    return moment


def decode_qr(image_bytes: bytes) -> list[str]:
    """Every QR code zxing-cpp finds in an image, as text."""
    import zxingcpp
    from PIL import Image

    with Image.open(io.BytesIO(image_bytes)) as img:
        img.load()
        found = zxingcpp.read_barcodes(img.convert("L"))
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]
