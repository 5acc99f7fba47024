"""QR codes for verification URLs, as PNG and SVG, at error correction M.

The encoder is zxing-cpp (C++), the same library that decodes card photos: a pure
Python encoder spends ~30-60 ms per version-19 code choosing the mask, which made
bulk issuance four times slower than everything else together (BENCHMARKS.md).
"""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

QR_ERROR = "M"  # survives about 15 % damage: creases, glare, a thumb over a corner
QR_BORDER = 4  # the quiet zone the standard asks for (zxing-cpp adds it)
PNG_SCALE = 4  # 4 px per module: a version-19 code is 404 px, ample for 35 mm in print
_SVG_SIZE = re.compile(r'<svg width="(\d+)" height="(\d+)"')


def make(url: str) -> zxingcpp.Barcode:
    return zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level=QR_ERROR)


def png(url: str, *, scale: int = PNG_SCALE) -> bytes:
    """A 1-bit PNG with the quiet zone: one pixel per module, converted without
    dithering, then scaled up by whole pixels (a third faster than converting the
    scaled image, byte for byte the same file)."""
    image = make(url).to_image(scale=1, add_quiet_zones=True)
    height, width = image.shape[:2]
    pil = Image.frombuffer("L", (width, height), bytes(memoryview(image)), "raw", "L", 0, 1)  # type: ignore[arg-type]
    one_bit = pil.convert("1", dither=Image.Dither.NONE)
    one_bit = one_bit.resize((width * scale, height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    one_bit.save(buf, "PNG")
    return buf.getvalue()


def svg(url: str) -> str:
    """An SVG element (no XML prolog) that scales to whatever size CSS gives it."""
    text = make(url).to_svg(scale=1, add_quiet_zones=True)
    text = text[text.index("<svg") :]
    # zxing-cpp sizes the SVG in pixels without a viewBox; a viewBox lets CSS set mm
    return _SVG_SIZE.sub(r'<svg viewBox="0 0 \1 \2" role="img" aria-label="QR"', text, count=1)


def modules(url: str) -> int:
    """Modules per side, without the quiet zone."""
    return int(make(url).to_image(scale=1, add_quiet_zones=False).shape[0])


def describe(url: str) -> dict[str, int | str]:
    """Version, error level and module count: what BENCHMARKS.md reports."""
    code = make(url)
    side = int(code.to_image(scale=1, add_quiet_zones=False).shape[0])
    return {"url_length": len(url), "version": (side - 17) // 4, "error": str(code.ec_level), "modules": side}
