"""verify.core.qrdecode: photographs of cards decode; hostile files fail with a stable code."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
import segno
from PIL import Image

from verify.core import qrdecode

URL = "https://xacminh.thiduakhenthuong.vn/v/" + "eyJhbGciOiJFZERTQSJ9." + "A" * 540


def qr_png(text: str = URL, scale: int = 4) -> bytes:
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def photograph(png: bytes, *, size: int, angle: float, fmt: str, shear: float = 0.0, seed: int = 1) -> bytes:
    """Paste the code scaled, rotated (and optionally sheared, like a photo taken at an
    angle) onto a larger noisy background, then compress it like a phone would."""
    card = Image.open(io.BytesIO(png)).convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    if shear:
        card = card.transform(
            (size + int(size * shear), size),
            Image.Transform.AFFINE,
            (1, shear, -size * shear, 0, 1, 0),
            resample=Image.Resampling.BILINEAR,
            fillcolor="white",
        )
    card = card.rotate(angle, expand=True, fillcolor="white", resample=Image.Resampling.BICUBIC)
    rng = random.Random(seed)
    bg = Image.effect_noise((card.width + 900, card.height + 700), 60).convert("RGB")
    bg.paste(card, (rng.randint(50, 850), rng.randint(50, 650)))
    out = io.BytesIO()
    bg.save(out, fmt, quality=80) if fmt in ("JPEG", "WEBP") else bg.save(out, fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels in a few dozen bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_plain_png_decodes() -> None:
    assert qrdecode.decode_qr(qr_png()) == URL


@pytest.mark.slow  # seconds (--durations): left out by ./dev test --fast
@pytest.mark.parametrize(
    ("size", "angle", "fmt", "shear"),
    [
        (520, 0, "JPEG", 0.0),
        (700, 8, "JPEG", 0.0),
        (640, -12, "PNG", 0.0),
        (900, 25, "WEBP", 0.0),
        (760, 5, "JPEG", 0.15),
        (600, 90, "JPEG", 0.0),
    ],
)
def test_photograph_like_inputs_decode(size: int, angle: float, fmt: str, shear: float) -> None:
    assert qrdecode.decode_qr(photograph(qr_png(), size=size, angle=angle, fmt=fmt, shear=shear)) == URL


def test_large_photo_is_downscaled_and_decodes() -> None:
    card = Image.open(io.BytesIO(qr_png())).convert("RGB").resize((1400, 1400))
    bg = Image.new("RGB", (4000, 3000), "#8a8a7a")
    bg.paste(card.rotate(4, expand=True, fillcolor="white"), (1200, 700))
    out = io.BytesIO()
    bg.save(out, "JPEG", quality=85)
    assert qrdecode.decode_qr(out.getvalue()) == URL


def _jpeg_without_qr() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((400, 300), 50).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


def _bmp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "BMP")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "not_an_image"),
        (b"hello, this is not an image", "not_an_image"),
        (b"%PDF-1.7\n1 0 obj\n", "not_an_image"),
        (b"\x89PNG\r\n\x1a\n", "not_an_image"),
        (_gif(), "not_an_image"),
        (_bmp(), "not_an_image"),
        (b"\xff\xd8\xff" + b"\0" * 100, "not_an_image"),
        (qr_png()[:400], "truncated_image"),
        (photograph(qr_png(), size=500, angle=3, fmt="JPEG")[:3000], "truncated_image"),
        (_jpeg_without_qr(), "no_qr_code"),
        (png_header_only(300, 300), "truncated_image"),
        (png_header_only(7000, 7000), "too_large"),
        (png_header_only(20000, 20000), "too_large"),
        (png_header_only(60000, 60000), "too_large"),
        (b"\0" * (qrdecode.MAX_IMAGE_BYTES + 1), "too_large"),
    ],
    ids=[
        "empty",
        "text",
        "pdf",
        "png-signature-only",
        "gif",
        "bmp",
        "jpeg-magic-only",
        "png-truncated",
        "jpeg-truncated",
        "no-qr",
        "png-no-pixel-data",
        "bomb-49mp",
        "bomb-400mp",
        "bomb-3600mp",
        "over-5mb",
    ],
)
def test_hostile_inputs_have_stable_codes(data: bytes, code: str) -> None:
    with pytest.raises(qrdecode.QrDecodeError) as info:
        qrdecode.decode_qr(data)
    assert info.value.code == code
    assert (info.value.status, info.value.message) == HOSTILE_ANSWERS[code]


# what the person who sent each kind of hostile photo is told, written out (not read from the classes)
HOSTILE_ANSWERS = {
    "not_an_image": (415, "This file is not a photo. Send a JPEG, PNG or WebP picture of the card."),
    "truncated_image": (400, "The photo is damaged or incomplete. Take or send it again."),
    "no_qr_code": (
        422,
        "No QR code was found in the photo. Take it again closer to the card, in good light, "
        "with the whole QR code in the picture.",
    ),
    "too_large": (413, "The photo is too large. Send a photo of at most 5 MB and 16 megapixels, as a phone takes it."),
}


def test_status_per_code() -> None:
    assert {
        e.code: e.status for e in (qrdecode.TooLarge, qrdecode.NotAnImage, qrdecode.TruncatedImage, qrdecode.NoQrCode)
    } == {
        "too_large": 413,
        "not_an_image": 415,
        "truncated_image": 400,
        "no_qr_code": 422,
    }


def test_module_needs_neither_flask_nor_a_database() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import verify.core.qrdecode; "
        "bad = [m for m in ('flask', 'sqlalchemy') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """PIL's 8 perspective coefficients mapping output points ``dst`` to input ``src``."""
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rhs.append(u)
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.append(v)
    return _solve(rows, rhs)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (8 unknowns; no numpy here)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [x - factor * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


@pytest.mark.parametrize("tilt", [0.08, 0.16])
def test_photo_taken_at_an_angle_decodes(tilt: float) -> None:
    """A real perspective (a keystone, as when the phone is not parallel to the card)."""
    card = Image.open(io.BytesIO(qr_png())).convert("RGB").resize((800, 800))
    w, h = card.size
    src: list[tuple[float, float]] = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = [(w * tilt, h * tilt / 2), (w * (1 - tilt), 0), (w, h), (0, h * (1 - tilt / 2))]
    warped = card.transform(
        (w, h), Image.Transform.PERSPECTIVE, _perspective_coeffs(src, dst), Image.Resampling.BICUBIC, fillcolor="#999"
    )
    background = Image.effect_noise((w + 500, h + 400), 50).convert("RGB")
    background.paste(warped.rotate(-7, expand=True, fillcolor="#999"), (200, 150))
    out = io.BytesIO()
    background.save(out, "JPEG", quality=80)
    assert qrdecode.decode_qr(out.getvalue()) == URL
