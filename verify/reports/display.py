"""Evidence images as the console shows them: never the bytes a stranger uploaded,
but a PNG that Pillow decoded and drew again, bounded in pixels and without any
metadata. A crafted file aimed at the admin's browser (a polyglot, an image-parser
exploit, hidden HTML) reaches only Pillow on the server, under the same pixel cap
as intake. The original stays available as a download (``admin.report_file``).

``display_image`` takes the evidence's bytes, wherever they are stored."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from keys.errors import N_, Message
from verify.errors import EvidenceError
from verify.reports.evidence import MAX_IMAGE_PIXELS, PIL_FORMATS

DISPLAY_BOX = (1600, 1600)  # a screen's worth: enough to read a screenshot of a chat
DISPLAY_MIME = "image/png"  # lossless, so a screenshot's small text stays readable


def display_image(data: bytes) -> bytes:
    """``data`` (a JPEG, PNG or WebP image) decoded, oriented, fitted into DISPLAY_BOX
    and encoded again as a PNG with no metadata (no EXIF, ICC, text chunks). Raise
    EvidenceError for anything else or for too many pixels."""
    unreadable = EvidenceError(
        "corrupt_file", Message(N_("This evidence file cannot be shown; download it.")), status=422
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in PIL_FORMATS or img.width * img.height > MAX_IMAGE_PIXELS:
                    raise unreadable
                img.load()
                drawn = ImageOps.exif_transpose(img)
                drawn = drawn.convert("RGBA" if "A" in drawn.getbands() or "transparency" in img.info else "RGB")
                drawn.thumbnail(DISPLAY_BOX, Image.Resampling.LANCZOS)
                clean = Image.new(drawn.mode, drawn.size)  # fresh image: nothing of the original's info travels
                clean.paste(drawn)
                out = io.BytesIO()
                clean.save(out, format="PNG", optimize=False)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        raise unreadable from exc
    return out.getvalue()
