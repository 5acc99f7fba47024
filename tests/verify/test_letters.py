"""The letter of introduction (issue 7, acceptance 3): the HTML print view and the
one-page PDF render the Vietnamese text, embed their font, and carry a QR code that
a real decoder (zxing-cpp) reads as exactly the verification URL; a token that is not
an assignment in force gets no letter."""

from __future__ import annotations

import base64
import io
import re
import unicodedata
from datetime import timedelta
from typing import Any

import pypdf
import pytest
from factories import BASE_URL, add_person, issue
from flask.testing import FlaskClient
from helpers_assignments import AGENCY, DOMAIN, PURPOSE, app_now, assign, decode_qr

from keys import jose
from keys.contract import VN_TZ
from registry.assignments import letters
from registry.assignments import pdf as letter_pdf
from registry.assignments import service as assignments
from registry.credentials.models import CredentialStatus
from registry.staff.models import StaffStatus
from registry.staff.service import change_status as change_staff_status

TITLE = "Trưởng phòng Biên tập, Đặc san Thi đua Khen thưởng"
UNIT = "Trung tâm Thông tin - Truyền thông, Ban Thi đua - Khen thưởng Trung ương"


def _person(session: Any) -> None:
    add_person(session, "TTTT-002", "Trần Thị Minh Hằng", title=TITLE, unit=UNIT, phone="0987 654 321")


def _vn(moment: Any) -> str:
    return str(moment.astimezone(VN_TZ).strftime("%d/%m/%Y"))


def _flat(text: str) -> str:
    """NFC, single-spaced: wrapped lines joined, as a reader sees the text."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _expected_texts(a: Any) -> list[str]:
    cred = a.credential
    issued = cred.issued_at.astimezone(VN_TZ)
    month = f"{issued.month:02d}" if issued.month < 3 else str(issued.month)
    return [
        "BỘ NỘI VỤ",
        "BAN THI ĐUA - KHEN THƯỞNG",
        "TRUNG ƯƠNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        f"Số: {assignments.letter_number(a)}",
        f"Hà Nội, ngày {issued.day:02d} tháng {month} năm {issued.year}",
        "GIẤY GIỚI THIỆU",
        f"Kính gửi: {AGENCY}",
        "Ban Thi đua - Khen thưởng Trung ương trân trọng giới thiệu:",
        "Ông/Bà: Trần Thị Minh Hằng",
        f"Chức vụ: {TITLE}",
        f"Đơn vị: {UNIT}",
        "Mã cán bộ: TTTT-002",
        f"Được cử đến: {AGENCY}",
        DOMAIN,
        f"Về việc: {PURPOSE}",
        "Điện thoại 0987 654 321",
        "Thư điện tử duc.nv@tdkt.gov.vn",
        f"từ ngày {_vn(cred.not_before)} đến hết ngày {_vn(cred.expires_at)}.",
        "Nơi nhận:",
        "Trung tâm không bao giờ đề nghị nộp tiền",
        f"Mã giấy: {cred.id}",
    ]


# ---------------------------------------------------------------- HTML


def test_letter_page_renders_the_vietnamese_letter_and_its_qr(client, session, master, signing_key):
    _person(session)
    a = assign(session, master, code="TTTT-002")
    token = a.credential.token
    resp = client.get(f"/v/{token}/letter")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    html = resp.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert '<article class="letter" lang="vi"' in html
    assert 'data-verdict="valid"' in html
    text = _flat(re.sub(r"<[^>]+>", " ", html))
    for expected in _expected_texts(a):
        assert _flat(expected) in text, expected
    assert 'style="' not in html and "<script" not in html and " on" + "click=" not in html
    assert "/static/letter.css" in html
    assert f'href="/v/{token}/letter.pdf"' in html
    # the QR image on the page decodes to exactly the verification URL
    src = re.search(r'<img class="letter-qr" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert src is not None
    assert decode_qr(base64.b64decode(src.group(1))) == [f"{BASE_URL}/v/{token}"]


def test_letter_page_in_english_keeps_the_letter_in_vietnamese(client, session, master, signing_key):
    _person(session)
    a = assign(session, master, code="TTTT-002")
    html = client.get(f"/v/{a.credential.token}/letter?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Download the PDF" in html
    assert "GIẤY GIỚI THIỆU" in html and f"Kính gửi: {AGENCY}" in html
    html = client.get(f"/v/{a.credential.token}/letter?lang=vi").get_data(as_text=True)
    assert "Tải bản PDF" in html


def test_letter_css_and_font_are_served(client):
    css = client.get("/static/letter.css")
    assert css.status_code == 200
    assert b"@page" in css.data and b"fonts/DejaVuSerifCondensed.ttf" in css.data
    for name in letter_pdf.FONT_FILES.values():
        font = client.get(f"/static/fonts/{name}")
        assert font.status_code == 200 and len(font.data) > 100_000
        font.close()
    css.close()


# ---------------------------------------------------------------- PDF


def _pdf(client: FlaskClient, token: str) -> tuple[pypdf.PdfReader, bytes]:
    resp = client.get(f"/v/{token}/letter.pdf")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith('inline; filename="giay-gioi-thieu-')
    assert resp.headers["Cache-Control"] == "no-store"
    return pypdf.PdfReader(io.BytesIO(resp.data)), resp.data


def _fonts(reader: pypdf.PdfReader) -> dict[str, bool]:
    """Base font name -> whether its program is embedded (FontFile2)."""
    found: dict[str, bool] = {}
    resources: Any = reader.pages[0]["/Resources"].get_object()
    for ref in resources["/Font"].get_object().values():
        font = ref.get_object()
        for descendant in font.get("/DescendantFonts", []):
            desc = descendant.get_object()["/FontDescriptor"].get_object()
            found[str(font["/BaseFont"])] = "/FontFile2" in desc
    return found


def test_letter_pdf_is_one_a4_page_with_selectable_vietnamese_and_embedded_fonts(client, session, master, signing_key):
    _person(session)
    a = assign(session, master, code="TTTT-002")
    reader, _ = _pdf(client, a.credential.token)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    text = _flat(reader.pages[0].extract_text())
    for expected in _expected_texts(a):
        assert _flat(expected) in text, expected
    fonts = _fonts(reader)
    assert fonts and all(fonts.values()), fonts
    assert all("DejaVuSerifCondensed" in name for name in fonts)
    assert reader.metadata is not None and reader.metadata.title == f"Giấy giới thiệu số {assignments.letter_number(a)}"


def test_letter_pdf_qr_decodes_to_the_verification_url(client, session, master, signing_key):
    _person(session)
    a = assign(session, master, code="TTTT-002")
    reader, _ = _pdf(client, a.credential.token)
    images = reader.pages[0].images
    assert len(images) == 1
    assert decode_qr(images[0].data) == [f"{BASE_URL}/v/{a.credential.token}"]
    # the QR is also a link to the same page
    annots: Any = reader.pages[0]["/Annots"]
    links = [annot.get_object()["/A"]["/URI"] for annot in annots]
    assert links == [f"{BASE_URL}/v/{a.credential.token}"]


def test_longest_fields_still_fit_one_page(client, session, master, signing_key):
    _person(session)
    agency = ("Ủy ban nhân dân thành phố Hồ Chí Minh, Sở Nội vụ, Ban Thi đua - Khen thưởng thành phố " * 3)[:200]
    purpose = ("Phỏng vấn, chụp ảnh, viết bài giới thiệu điển hình tiên tiến cho Đặc san Thi đua Khen thưởng " * 3)[
        :200
    ]
    a = assign(
        session,
        master,
        code="TTTT-002",
        agency=agency.strip(),
        purpose=purpose.strip(),
        agency_domain="ubnd-thanhpho.hochiminhcity.gov.vn",
        channels=("phone:0987654321", "email:hang.ttm@tdkt.gov.vn", "zalo:0987654321", "phone:0243 843 1234"),
    )
    letter = letters.letter_record(a)
    url = f"{BASE_URL}/v/{a.credential.token}"
    size = letter_pdf.body_size(letter, url)
    assert size < letter_pdf.BODY_SIZES[0]  # it had to shrink, and did so instead of overflowing
    reader, _ = _pdf(client, a.credential.token)
    assert len(reader.pages) == 1
    text = _flat(reader.pages[0].extract_text())
    assert _flat(purpose) in text and _flat(agency) in text
    assert decode_qr(reader.pages[0].images[0].data) == [url]


def test_cli_pdf_is_the_same_letter(runner, session, master, signing_key, tmp_path):
    _person(session)
    a = assign(session, master, code="TTTT-002")
    target = tmp_path / "giay.pdf"
    result = runner.invoke(args=["assignment", "letter", a.credential_id, "--pdf", str(target)])
    assert result.exit_code == 0, result.output
    reader = pypdf.PdfReader(target)
    assert len(reader.pages) == 1
    assert _flat(f"Kính gửi: {AGENCY}") in _flat(reader.pages[0].extract_text())
    assert decode_qr(reader.pages[0].images[0].data) == [f"{BASE_URL}/v/{a.credential.token}"]


def test_vn_long_date_follows_the_decree():
    from datetime import UTC, datetime

    assert (
        letter_pdf.vn_long_date(datetime(2026, 2, 4, 18, tzinfo=UTC), "Hà Nội") == "Hà Nội, ngày 05 tháng 02 năm 2026"
    )
    assert (
        letter_pdf.vn_long_date(datetime(2026, 11, 20, 3, tzinfo=UTC), "Hà Nội") == "Hà Nội, ngày 20 tháng 11 năm 2026"
    )


# ---------------------------------------------------------------- no letter without an assignment in force


def _tampered(token: str) -> str:
    head, payload, sig = token.split(".")
    claims = jose._json_object(payload, "payload")
    claims["agency"] = "Sở Nội vụ tỉnh Phú Yên"
    return f"{head}.{jose.b64url_encode(jose.compact_json(claims))}.{sig}"


@pytest.mark.parametrize(
    ("case", "status", "verdict"),
    [
        ("garbage", 404, "malformed"),
        ("staff_card", 404, "malformed"),
        ("tampered", 404, "bad_signature"),
        ("suspended", 403, "suspended"),
        ("staff_suspended", 403, "suspended"),
        ("revoked", 410, "revoked"),
        ("staff_departed", 410, "revoked"),
        ("expired", 410, "expired"),
    ],
)
@pytest.mark.parametrize("suffix", ["letter", "letter.pdf"])
def test_no_letter_unless_in_force(client, session, master, signing_key, case, status, verdict, suffix):
    _person(session)
    now = app_now()
    a = assign(session, master, code="TTTT-002", now=now - timedelta(days=20) if case == "expired" else now, days=3)
    token = a.credential.token
    if case == "garbage":
        token = "not-a-token"
    elif case == "staff_card":
        token = issue(session, master, "TTTT-002", now=now).token
    elif case == "tampered":
        token = _tampered(token)
    elif case in ("suspended", "revoked"):
        to = CredentialStatus.SUSPENDED if case == "suspended" else CredentialStatus.REVOKED
        assignments.change_status(session, a.credential_id, to, actor="admin", now=now)
    elif case in ("staff_suspended", "staff_departed"):
        to_staff = StaffStatus.SUSPENDED if case == "staff_suspended" else StaffStatus.DEPARTED
        change_staff_status(session, "TTTT-002", to_staff, actor="admin", now=now)
    session.commit()
    resp = client.get(f"/v/{token}/{suffix}")
    assert resp.status_code == status
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert f'data-verdict="{verdict}"' in html
    assert "GIẤY GIỚI THIỆU" not in html and PURPOSE not in html
    assert resp.headers["Cache-Control"] == "no-store"
    as_json = client.get(f"/v/{token}/{suffix}", headers={"Accept": "application/json"})
    assert as_json.status_code == status
    assert as_json.json is not None and as_json.json["error"]["code"] == "letter_unavailable"


def test_an_overlong_token_is_refused_without_a_500(client):
    resp = client.get("/v/" + "a" * 9000 + "/letter")
    assert resp.status_code in (404, 414)


@pytest.mark.parametrize(("agency", "verdict"), [("", "valid"), (DOMAIN, "valid"), ("phuyen.gov.vn", "wrong_agency")])
def test_the_letters_qr_verifies_through_the_photo_upload(client, session, master, signing_key, agency, verdict):
    """The QR image cut from the PDF (what an officer photographs) goes through the
    same photo path as a card, agency check included."""
    _person(session)
    a = assign(session, master, code="TTTT-002")
    reader, _ = _pdf(client, a.credential.token)
    photo = io.BytesIO()
    image = reader.pages[0].images[0].image  # pypdf hands it out as TIFF; phones send JPEG
    assert image is not None
    image.convert("L").save(photo, format="JPEG", quality=85)
    photo.seek(0)
    resp = client.post(
        "/api/v1/verify/image",
        data={"image": (photo, "giay.jpg"), "agency": agency},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.json is not None
    assert resp.json["verdict"] == verdict
    assert resp.json["credential"]["kind"] == "assignment"
    assert resp.json["credential"]["agency"] == AGENCY
