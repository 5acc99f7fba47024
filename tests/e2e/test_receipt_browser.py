"""The receipt in Debian's chromium, JavaScript off: the verdict page's button
downloads the PDF (one A4 page whose QR is the receipt's page), and that page shows
the receipt genuine at 360 px without sideways scrolling."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pypdf
from conftest import BASE_URL, TEST_OUTPUT, add_person
from helpers_assignments import AGENCY, assign, decode_qr
from helpers_browser import NEEDS_CHROMIUM
from helpers_server import serve

pytestmark = [*NEEDS_CHROMIUM]


def test_verdict_page_downloads_the_receipt_pdf(app, session, master, signing_key, browser, tmp_path):
    add_person(session)
    a = assign(session, master)
    csp_errors: list[str] = []
    with serve(app) as url:
        context = browser.new_context(
            viewport={"width": 360, "height": 800}, java_script_enabled=False, accept_downloads=True
        )
        page = context.new_page()
        page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{url}/v/{a.credential.token}?agency={AGENCY}")
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "valid"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        with page.expect_download() as info:
            page.click("#receipt-pdf")
        download = info.value
        assert download.suggested_filename.startswith("bien-ban-xac-minh-")
        saved = tmp_path / download.suggested_filename
        download.save_as(str(saved))
        reader = pypdf.PdfReader(saved)
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)
        text = unicodedata.normalize("NFC", reader.pages[0].extract_text())
        assert "BIÊN BẢN XÁC MINH" in text and "Nguyễn Văn Đức" in text
        [qr_url] = decode_qr(reader.pages[0].images[0].data)
        assert qr_url.startswith(f"{BASE_URL}/r/")
        # the QR's page, on this server, says the receipt is genuine
        page.goto(url + qr_url.removeprefix(BASE_URL))
        assert page.locator("[data-receipt]").get_attribute("data-receipt") == "genuine"
        assert AGENCY in page.inner_text(".receipt-facts")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        TEST_OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(TEST_OUTPUT / "receipt-360.png"), full_page=True)
        context.close()
    assert csp_errors == []
    assert Path(TEST_OUTPUT / "receipt-360.png").stat().st_size > 0
