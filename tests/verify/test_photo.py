"""Card photos: a card with its QR code, pasted scaled and rotated onto a larger noisy
background, decodes and verifies through the API and the page; junk uploads get 4xx."""

from __future__ import annotations

import io
from typing import Any

import pytest
from factories import BASE_URL, NOW, add_person, issue
from PIL import Image, ImageDraw
from test_qrdecode import png_header_only

from keys.contract import verification_url
from registry import qr
from verify.core.qrdecode import MAX_IMAGE_BYTES


def card_png(url: str) -> Image.Image:
    """A printed card: white, a header band, name lines and the QR code."""
    card = Image.new("RGB", (860, 540), "white")
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, 860, 80), fill="#8b0000")
    for y in (130, 180, 230):
        draw.rectangle((40, y, 380, y + 22), fill="#333")
    code = Image.open(io.BytesIO(qr.png(url))).convert("RGB").resize((400, 400), Image.Resampling.NEAREST)
    card.paste(code, (430, 110))
    return card


def photograph(card: Image.Image, *, scale: float, angle: float, fmt: str) -> bytes:
    shot = card.resize((int(card.width * scale), int(card.height * scale)), Image.Resampling.BILINEAR)
    shot = shot.rotate(angle, expand=True, fillcolor="#777", resample=Image.Resampling.BICUBIC)
    background = Image.effect_noise((shot.width + 600, shot.height + 500), 70).convert("RGB")
    background.paste(shot, (270, 210))
    out = io.BytesIO()
    background.save(out, fmt, **({"quality": 82} if fmt in ("JPEG", "WEBP") else {}))
    return out.getvalue()


@pytest.fixture()
def card(session: Any, master: Any, signing_key: Any) -> Image.Image:
    add_person(session)
    cred = issue(session, master)
    return card_png(verification_url(BASE_URL, cred.token))


@pytest.mark.slow  # seconds (--durations): left out by ./dev test --fast
@pytest.mark.parametrize(
    ("scale", "angle", "fmt"),
    [(1.0, 0, "PNG"), (0.9, 6, "JPEG"), (1.4, -9, "JPEG"), (1.1, 15, "WEBP"), (2.0, 3, "JPEG")],
)
def test_card_photo_decodes_and_verifies(client: Any, card: Image.Image, scale: float, angle: float, fmt: str) -> None:
    photo = photograph(card, scale=scale, angle=angle, fmt=fmt)
    resp = client.post("/api/v1/verify/image", data={"image": (io.BytesIO(photo), "the-card.jpg")})
    assert resp.status_code == 200, resp.json
    assert resp.json["verdict"] == "valid"
    assert resp.json["staff"]["code"] == "TTTT-001"


def test_page_upload_shows_the_verdict(client: Any, card: Image.Image) -> None:
    photo = photograph(card, scale=1.2, angle=-5, fmt="JPEG")
    resp = client.post("/check-photo", data={"image": (io.BytesIO(photo), "anh.jpg")})
    assert resp.status_code == 200
    assert 'data-verdict="valid"' in resp.get_data(as_text=True)


def test_photo_of_a_revoked_card(client: Any, session: Any, card: Image.Image) -> None:
    from registry.staff.models import StaffStatus
    from registry.staff.service import change_status

    change_status(session, "TTTT-001", StaffStatus.DEPARTED, actor="t", now=NOW)
    session.commit()
    resp = client.post(
        "/api/v1/verify/image", data={"image": (io.BytesIO(photograph(card, scale=1, angle=4, fmt="PNG")), "a.png")}
    )
    assert resp.json["verdict"] == "revoked"


def _noise_jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((640, 480), 60).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def _foreign_qr() -> bytes:
    return qr.png("https://example.com/not-a-credential")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 415, "not_an_image"),
        (b"GIF89a junk junk", 415, "not_an_image"),
        (b"%PDF-1.4 evidence", 415, "not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415, "not_an_image"),
        (qr.png("x")[:200], 400, "truncated_image"),
        (_noise_jpeg(), 422, "no_qr_code"),
        (png_header_only(9000, 9000), 413, "too_large"),
        (b"\xff\xd8\xff\xe0" + b"\0" * MAX_IMAGE_BYTES, 413, "too_large"),
    ],
    ids=["empty", "gif-magic", "pdf", "svg", "truncated", "no-qr", "pixel-bomb", "over-5mb"],
)
def test_junk_uploads_get_4xx(client: Any, data: bytes, status: int, code: str) -> None:
    resp = client.post("/api/v1/verify/image", data={"image": (io.BytesIO(data), "x.jpg")})
    assert resp.status_code == status
    assert resp.json["error"]["code"] == code
    assert resp.json["error"]["message"]
    page = client.post("/check-photo", data={"image": (io.BytesIO(data), "x.jpg")})
    assert page.status_code == status
    assert 'id="photo-error"' in page.get_data(as_text=True)


def test_qr_of_another_website_is_foreign_site_not_an_error(client: Any) -> None:
    resp = client.post("/api/v1/verify/image", data={"image": (io.BytesIO(_foreign_qr()), "x.png")})
    assert resp.status_code == 200
    assert resp.json["verdict"] == "foreign_site"
    assert resp.json["foreign_host"] == "example.com"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {}},
        {"data": {"other": (io.BytesIO(b"x"), "x.jpg")}},
        {"data": b"raw bytes", "content_type": "image/jpeg"},
        {"json": {"image": "aGVsbG8="}},
    ],
)
def test_missing_photo_field(client: Any, kwargs: dict[str, Any]) -> None:
    resp = client.post("/api/v1/verify/image", **kwargs)
    assert resp.status_code == 400
    assert resp.json["error"]["field"] == "image"


def test_over_the_request_cap_is_413(client: Any) -> None:
    big = b"\0" * (6 * 1024 * 1024)
    resp = client.post("/api/v1/verify/image", data={"image": (io.BytesIO(big), "x.jpg")})
    assert resp.status_code == 413


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_page_upload_with_csrf_on_and_a_large_photo(client: Any, card: Image.Image) -> None:
    import re

    home = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert token is not None
    photo = photograph(card, scale=2.0, angle=3, fmt="JPEG")
    assert len(photo) > 1024 * 1024  # many times the app-wide 64 KiB form-memory cap
    resp = client.post("/check-photo", data={"csrf_token": token.group(1), "image": (io.BytesIO(photo), "a.png")})
    assert resp.status_code == 200
    assert 'data-verdict="valid"' in resp.get_data(as_text=True)
    refused = client.post("/check-photo", data={"image": (io.BytesIO(photo), "a.png")})
    assert refused.status_code == 400  # no CSRF token
    api = client.post("/api/v1/verify/image", data={"image": (io.BytesIO(photo), "a.png")})
    assert api.status_code == 200  # the JSON API is exempt
