"""Builders for report tests: a valid report, small real evidence files, and
hostile ones (a decompression bomb, a disguised PDF, HTML named .png)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image


def valid_report(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "channel": "phone",
        "claimed_name": "Nguyễn Văn Đức",
        "claimed_title": "Phóng viên",
        "claimed_unit": "Trung tâm Thông tin - Truyền thông",
        "staff_code": "TTTT-999",
        "phone": "0987 654 321",
        "email": "KeGia.TDKT@gmail.com",
        "social_link": "https://www.facebook.com/ke.gia.tdkt",
        "bank_account": "Vietcombank 0123 456 789",
        "request_text": "Đề nghị đơn vị chuyển 5.000.000 đồng phí đăng bài điển hình tiên tiến.",
        "amount_vnd": 5_000_000,
        "occurred_at": "2026-11-18",
        "evidence_text": "Gọi lúc 9 giờ sáng, xưng là phóng viên của Trung tâm.",
        "reporter_agency": "Sở Nội vụ tỉnh Hà Tĩnh",
        "reporter_contact": "Trần Thị Lan, 0239 385 5555",
    }
    data.update(overrides)
    return data


def form_data(**overrides: Any) -> dict[str, Any]:
    """The same report as the HTML form sends it (every value a string)."""
    return {k: ("" if v is None else str(v)) for k, v in valid_report(**overrides).items()}


def jpeg_with_exif(size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "EvidenceCam"  # Make
    exif[0x0110] = "Model X"  # Model
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 30)).save(out, "PNG")
    return out.getvalue()


def webp(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 10, 200)).save(out, "WEBP")
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG of a few hundred bytes that declares 10 gigapixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def stored_evidence(session: Any) -> list[bytes]:
    """The bytes of every evidence file in the database, oldest first."""
    from sqlalchemy import select

    from verify.reports.models import EvidenceBlob

    session.expire_all()
    return [bytes(d) for d in session.scalars(select(EvidenceBlob.data).order_by(EvidenceBlob.file_id))]
