"""Verification receipts (issue 15, acceptance 1): ``receipt=1`` on the verify API
adds a JWS that PyJWT verifies with the served JWKS and that carries the claims; the
PDF is one A4 page of selectable Vietnamese text whose QR decodes to the receipt's
page; ``/r/<receipt>`` shows a genuine receipt and refuses a changed one."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import jwt
import pypdf
import pytest
from factories import BASE_URL, NOW, TEST_OUTPUT, add_person, issue, pyjwt_leeway
from flask.testing import FlaskClient
from helpers_assignments import AGENCY, assign, decode_qr

from keys import jose
from keys import service as key_service
from keys.contract import RECEIPT_TYP, VN_TZ
from registry.credentials.models import CredentialStatus
from registry.credentials.service import change_status

A4_POINTS = (595, 842)
NAME = "Nguyễn Văn Đức"


def _receipt(client: FlaskClient, token: str, method: str = "GET", **extra: Any) -> tuple[dict[str, Any], str]:
    params = {"token": token, "receipt": "1", **extra}
    if method == "GET":
        resp = client.get("/api/v1/verify", query_string=params)
    else:
        resp = client.post("/api/v1/verify", json={**params, "receipt": True})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    answer = resp.json
    assert answer is not None
    return answer, answer["receipt"]


def _pyjwt(client: FlaskClient, receipt: str) -> dict[str, Any]:
    """The receipt's claims as PyJWT verifies them with the served JWKS."""
    header = jwt.get_unverified_header(receipt)
    assert header["typ"] == RECEIPT_TYP == "verification-receipt+jwt"
    assert header["alg"] == "EdDSA"
    jwks: Any = client.get("/.well-known/jwks.json").json
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims: dict[str, Any] = jwt.decode(
        receipt,
        key.key,
        algorithms=["EdDSA"],
        issuer=BASE_URL,
        options={"require": ["iss", "iat", "jti"]},
        leeway=pyjwt_leeway(),
    )
    return claims


def _changed(receipt: str, **changes: Any) -> str:
    head, payload, sig = receipt.split(".")
    claims = {**jose._json_object(payload, "payload"), **changes}
    return f"{head}.{jose.b64url_encode(jose.compact_json(claims))}.{sig}"


def test_no_receipt_unless_asked(client, session, master, signing_key):
    add_person(session)
    cred = issue(session, master)
    resp = client.get("/api/v1/verify", query_string={"token": cred.token})
    assert resp.json["verdict"] == "valid"
    assert "receipt" not in resp.json
    resp = client.get("/api/v1/verify", query_string={"token": cred.token, "receipt": "0"})
    assert "receipt" not in resp.json


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_receipt_of_a_valid_card_verifies_with_pyjwt(client, session, master, signing_key, method):
    add_person(session)
    cred = issue(session, master)
    answer, receipt = _receipt(client, cred.token, method)
    assert answer["verdict"] == "valid"
    claims = _pyjwt(client, receipt)
    jti = claims.pop("jti")
    assert len(jose.b64url_decode(jti)) == 16
    assert claims == {
        "iss": BASE_URL,
        "iat": int(NOW.timestamp()),
        "verdict": "valid",
        "kind": "staff",
        "sub": "TTTT-001",
        "name": NAME,
        "credential": cred.id,
    }
    assert jwt.get_unverified_header(receipt)["kid"] == signing_key.kid
    # a second receipt of the same check is another receipt
    assert _pyjwt(client, _receipt(client, cred.token, method)[1])["jti"] != jti


def _revoked_card(session: Any, master: Any) -> Any:
    """TTTT-001's card, revoked as lost (committed)."""
    add_person(session)
    cred = issue(session, master)
    change_status(session, cred.id, CredentialStatus.REVOKED, actor="test", now=NOW, reason="lost")
    session.commit()
    return cred


def test_receipt_of_a_revoked_card(client, session, master, signing_key):
    cred = _revoked_card(session, master)
    answer, receipt = _receipt(client, cred.token)
    assert answer["verdict"] == "revoked"
    claims = _pyjwt(client, receipt)
    assert {k: claims[k] for k in ("verdict", "kind", "sub", "name", "credential")} == {
        "verdict": "revoked",
        "kind": "staff",
        "sub": "TTTT-001",
        "name": NAME,
        "credential": cred.id,
    }
    assert "agency" not in claims


@pytest.mark.parametrize(
    ("agency", "verdict"), [(AGENCY, "valid"), ("khanhhoa.gov.vn", "valid"), ("UBND tỉnh Nghệ An", "wrong_agency")]
)
def test_receipt_of_an_assignment_with_an_agency(client, session, master, signing_key, agency, verdict):
    add_person(session)
    a = assign(session, master)
    answer, receipt = _receipt(client, a.credential.token, agency=agency)
    assert answer["verdict"] == verdict
    claims = _pyjwt(client, receipt)
    assert {k: claims[k] for k in ("verdict", "kind", "sub", "name", "credential", "agency")} == {
        "verdict": verdict,
        "kind": "assignment",
        "sub": "TTTT-001",
        "name": NAME,
        "credential": a.credential.id,
        "agency": agency,
    }


@pytest.mark.parametrize(
    ("token", "verdict"),
    [("not-a-token", "malformed"), ("https://xacminh-gia.example/v/abc.def.ghi", "foreign_site")],
)
def test_receipt_without_a_credential_records_the_verdict_alone(client, signing_key, token, verdict):
    answer, receipt = _receipt(client, token)
    assert answer["verdict"] == verdict
    claims = _pyjwt(client, receipt)
    assert sorted(claims) == ["iat", "iss", "jti", "verdict"]
    assert claims["verdict"] == verdict


def test_forged_token_receipt_names_nobody(client, session, master, signing_key):
    """The Centre never signs what a forger wrote: bad_signature carries no name."""
    add_person(session)
    cred = issue(session, master)
    forged = _changed(cred.token, name="Kẻ Mạo Danh")
    answer, receipt = _receipt(client, forged)
    assert answer["verdict"] == "bad_signature"
    claims = _pyjwt(client, receipt)
    assert "name" not in claims and "sub" not in claims and "credential" not in claims


@pytest.mark.parametrize("value", ["2", "yes", "x" * 50])
def test_bad_receipt_parameter_is_a_400(client, signing_key, value):
    resp = client.get("/api/v1/verify", query_string={"token": "abc", "receipt": value})
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "invalid_input"
    assert resp.json["error"]["field"] == "receipt"


def test_receipts_are_counted_at_the_hook(client, session, master, signing_key, monkeypatch):
    from verify.receipts import service

    seen: list[str] = []
    monkeypatch.setattr(service, "receipt_issued", seen.append)
    add_person(session)
    cred = issue(session, master)
    _receipt(client, cred.token)
    client.get(f"/v/{cred.token}/receipt.pdf")
    assert seen == ["valid", "valid"]


# ---------------------------------------------------------------- /r/<receipt>


def test_receipt_page_shows_a_genuine_receipt(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    _, receipt = _receipt(client, a.credential.token, agency=AGENCY)
    page = client.get(f"/r/{receipt}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-receipt="genuine"' in html
    assert "BIÊN BẢN HỢP LỆ" in html
    for fact in (NAME, "TTTT-001", a.credential.id, AGENCY, f"{NOW.astimezone(VN_TZ):%d/%m/%Y}", "Giấy giới thiệu"):
        assert fact in html, fact
    english = client.get(f"/r/{receipt}?lang=en").get_data(as_text=True)
    assert "GENUINE RECEIPT" in english and "Letter of introduction" in english
    assert "<script" not in html
    answer = client.get(f"/r/{receipt}", headers={"Accept": "application/json"}).json
    assert answer["status"] == "genuine"
    assert answer["claims"]["agency"] == AGENCY


def test_receipt_page_refuses_a_changed_receipt(client, session, master, signing_key):
    cred = _revoked_card(session, master)
    _, receipt = _receipt(client, cred.token)
    changed = _changed(receipt, verdict="valid")
    html = client.get(f"/r/{changed}").get_data(as_text=True)
    assert 'data-receipt="forged"' in html
    assert "KHÔNG HỢP LỆ" in html
    assert NAME not in html  # a refused receipt's claims are never shown
    for text, status in (("abc", "malformed"), (changed.replace(".", "", 1), "malformed")):
        assert client.get(f"/r/{text}", headers={"Accept": "application/json"}).json == {
            "status": status,
            "claims": None,
        }


def test_receipt_of_a_revoked_key_is_refused(client, session, master, signing_key):
    add_person(session)
    cred = issue(session, master)
    _, receipt = _receipt(client, cred.token)
    key_service.rotate_key(session, master, now=NOW)
    session.commit()
    assert client.get(f"/r/{receipt}", headers={"Accept": "application/json"}).json["status"] == "genuine"
    key_service.revoke_key(session, signing_key.kid, now=NOW, reason="compromised")
    session.commit()
    assert client.get(f"/r/{receipt}", headers={"Accept": "application/json"}).json["status"] == "key_revoked"


# ---------------------------------------------------------------- the PDF


def _flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _pdf(client: FlaskClient, path: str) -> pypdf.PdfReader:
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="bien-ban-xac-minh-')
    assert resp.headers["Cache-Control"] == "no-store"
    return pypdf.PdfReader(io.BytesIO(resp.data))


def _qr_receipt(reader: pypdf.PdfReader) -> str:
    images = reader.pages[0].images
    assert len(images) == 1
    [url] = decode_qr(images[0].data)
    assert url.startswith(f"{BASE_URL}/r/")
    return str(url).removeprefix(f"{BASE_URL}/r/")


def test_pdf_is_one_a4_page_of_vietnamese_text_whose_qr_is_the_receipt(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    reader = _pdf(client, f"/v/{a.credential.token}/receipt.pdf?agency={AGENCY}")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == A4_POINTS
    text = _flat(reader.pages[0].extract_text())
    for expected in (
        "BIÊN BẢN XÁC MINH",
        "HỢP LỆ: cán bộ được Trung tâm ủy quyền",
        "Họ và tên",
        NAME,
        "Giấy giới thiệu",
        "Mã cán bộ TTTT-001",
        AGENCY,
        f"{NOW.astimezone(VN_TZ):%d/%m/%Y}",
    ):
        assert _flat(expected) in text, expected
    receipt = _qr_receipt(reader)
    claims = _pyjwt(client, receipt)
    assert claims["verdict"] == "valid" and claims["agency"] == AGENCY and claims["credential"] == a.credential.id
    assert claims["jti"] in text
    # the QR is also a link to the receipt's page, which says it is genuine
    annots: Any = reader.pages[0]["/Annots"]
    links = [annot.get_object()["/A"]["/URI"] for annot in annots]
    assert links == [f"{BASE_URL}/r/{receipt}"]
    assert 'data-receipt="genuine"' in client.get(f"/r/{receipt}").get_data(as_text=True)


def test_pdf_rendered_shows_a_qr_that_decodes_to_the_receipt(client, session, master, signing_key):
    """The page as a reader sees it (rendered by PDFium at 150 dpi), not only the image
    object inside it: the QR code is drawn whole and readable."""
    import pypdfium2

    add_person(session)
    cred = issue(session, master)
    resp = client.get(f"/v/{cred.token}/receipt.pdf")
    document = pypdfium2.PdfDocument(resp.data)
    assert len(document) == 1
    image = document[0].render(scale=150 / 72).to_pil()
    TEST_OUTPUT.mkdir(exist_ok=True)
    image.save(TEST_OUTPUT / "receipt-pdf.png")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    [url] = decode_qr(buf.getvalue())
    receipt = str(url).removeprefix(f"{BASE_URL}/r/")
    assert _pyjwt(client, receipt)["credential"] == cred.id
    document.close()


def test_pdf_in_english_and_for_a_revoked_card(client, session, master, signing_key):
    cred = _revoked_card(session, master)
    reader = _pdf(client, f"/v/{cred.token}/receipt.pdf?lang=en")
    text = _flat(reader.pages[0].extract_text())
    assert "VERIFICATION RECEIPT" in text and "REVOKED: do not trust this person" in text
    assert NAME in text  # the name stays as written
    assert _pyjwt(client, _qr_receipt(reader))["verdict"] == "revoked"


def test_the_longest_agency_still_fits_above_the_qr(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    agency = ("Ủy ban nhân dân thành phố Hồ Chí Minh, Sở Nội vụ, Ban Thi đua - Khen thưởng thành phố " * 3)[:200]
    resp = client.get(f"/v/{a.credential.token}/receipt.pdf", query_string={"agency": agency})
    reader = pypdf.PdfReader(io.BytesIO(resp.data))
    assert len(reader.pages) == 1
    assert _flat(agency) in _flat(reader.pages[0].extract_text())
    assert _pyjwt(client, _qr_receipt(reader))["agency"] == agency.strip()


def test_pdf_of_a_malformed_token_still_records_the_verdict(client, signing_key):
    reader = _pdf(client, "/v/nothing-here/receipt.pdf")
    assert len(reader.pages) == 1
    assert "KHÔNG PHẢI" in _flat(reader.pages[0].extract_text())
    assert _pyjwt(client, _qr_receipt(reader))["verdict"] == "malformed"


def test_verdict_page_offers_the_pdf(client, session, master, signing_key):
    add_person(session)
    a = assign(session, master)
    html = client.get(f"/v/{a.credential.token}?agency=khanhhoa.gov.vn").get_data(as_text=True)
    assert 'id="receipt-pdf"' in html
    assert f"/v/{a.credential.token}/receipt.pdf?agency=khanhhoa.gov.vn&amp;lang=vi" in html


# ---------------------------------------------------------------- OpenAPI


def test_openapi_describes_receipts(client):
    doc = client.get("/api/v1/openapi.json").json
    assert "receipt" in doc["components"]["schemas"]["VerifyAnswer"]["properties"]
    params = {p["name"] for p in doc["paths"]["/api/v1/verify"]["get"]["parameters"]}
    assert "receipt" in params
    body = doc["paths"]["/api/v1/verify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "receipt" in body["properties"]
    pdf = doc["paths"]["/v/{token}/receipt.pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    page = doc["paths"]["/r/{receipt}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["properties"]["status"]["enum"] == ["genuine", "forged", "unknown_key", "key_revoked", "malformed"]


def test_no_signing_key_is_a_clear_error_not_a_crash(client):
    resp = client.get("/api/v1/verify", query_string={"token": "abc", "receipt": "1"})
    assert resp.status_code == 503
    assert resp.json["error"]["code"] == "no_signing_key"
    assert client.get("/v/abc/receipt.pdf").status_code == 503
    # without a receipt the answer is the verdict, as ever
    assert client.get("/api/v1/verify", query_string={"token": "abc"}).json["verdict"] == "malformed"
