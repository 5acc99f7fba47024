"""Helpers shared by the assignment and letter tests."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from conftest import BASE_URL, NOW
from sqlalchemy.orm import Session

from keys.crypto import MasterKey

AGENCY = "Sở Nội vụ tỉnh Khánh Hòa"
DOMAIN = "khanhhoa.gov.vn"
PURPOSE = "Viết bài giới thiệu điển hình tiên tiến của tỉnh Khánh Hòa cho Đặc san Thi đua Khen thưởng, số 12/2026"


def app_now() -> datetime:
    """Tokens checked over HTTP are checked at the app's clock, which the tests stop
    at NOW, so they are issued at it."""
    moment: datetime = NOW
    return moment


def assign(
    session: Session,
    master: MasterKey,
    code: str = "TTTT-001",
    *,
    now: datetime | None = None,
    agency: str = AGENCY,
    agency_domain: str | None = DOMAIN,
    purpose: str = PURPOSE,
    days: int = 14,
    channels: tuple[str, ...] = (),
) -> Any:
    """Issue and commit an assignment; returns the Assignment row."""
    from registry.assignments.service import issue_assignment

    assignment = issue_assignment(
        session,
        master,
        staff_code=code,
        agency=agency,
        agency_domain=agency_domain,
        purpose=purpose,
        channels=channels,
        days=days,
        base_url=BASE_URL,
        now=now or app_now(),
        actor="test-admin",
    )
    session.commit()
    return assignment


def decode_qr(image_bytes: bytes) -> list[str]:
    """Every QR code zxing-cpp finds in an image, as text."""
    import zxingcpp
    from PIL import Image

    with Image.open(io.BytesIO(image_bytes)) as img:
        img.load()
        found = zxingcpp.read_barcodes(img.convert("L"))
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]
