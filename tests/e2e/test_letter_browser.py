"""The letter and the assignment verdict in Debian's chromium, JavaScript off: a
360 px phone without sideways scrolling, no Content-Security-Policy violation, the
QR on the rendered page read by zxing-cpp, the agency form, and printing to exactly
one A4 page with only the letter on it."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import pypdf
from factories import BASE_URL, TEST_OUTPUT, add_person
from helpers_assignments import AGENCY, PURPOSE, assign, decode_qr
from helpers_browser import NEEDS_CHROMIUM
from helpers_server import serve

pytestmark = [
    *NEEDS_CHROMIUM,
]


def _page(browser: Any, width: int, csp_errors: list[str], *, scale: float = 1) -> Any:
    page = browser.new_page(
        viewport={"width": width, "height": 800}, java_script_enabled=False, device_scale_factor=scale
    )
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return page


def test_letter_in_chromium(app, session, master, signing_key, browser):
    add_person(session, "TTTT-002", "Trần Thị Minh Hằng", title="Biên tập viên, Đặc san Thi đua Khen thưởng")
    a = assign(session, master, code="TTTT-002")
    token = a.credential.token
    TEST_OUTPUT.mkdir(exist_ok=True)
    csp_errors: list[str] = []
    with serve(app) as url:
        phone = _page(browser, 360, csp_errors)
        phone.goto(f"{url}/v/{token}/letter")
        assert phone.locator("html").get_attribute("lang") == "vi"
        assert "GIẤY GIỚI THIỆU" in phone.inner_text("article.letter")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        phone.screenshot(path=str(TEST_OUTPUT / "letter-360.png"), full_page=True)

        # 40 mm is about 151 CSS px: a printer's resolution, not a 1x screen's, resolves its modules
        desk = _page(browser, 1280, csp_errors, scale=4)
        desk.goto(f"{url}/v/{token}/letter")
        # the QR as chromium draws it, read by a real decoder
        shot = desk.locator("img.letter-qr").screenshot()
        assert decode_qr(shot) == [f"{BASE_URL}/v/{token}"]
        desk.screenshot(path=str(TEST_OUTPUT / "letter-desktop.png"), full_page=True)
        # printing gives one A4 page holding the letter and nothing of the site around it
        reader = pypdf.PdfReader(io.BytesIO(desk.pdf(format="A4", print_background=True)))
        assert len(reader.pages) == 1
        # chromium's PDF places Vietnamese glyph clusters one by one, so compare without spaces
        printed = "".join(unicodedata.normalize("NFC", reader.pages[0].extract_text()).split())
        for expected in ("GIẤY GIỚI THIỆU", f"Kính gửi: {AGENCY}", PURPOSE):
            assert "".join(expected.split()) in printed, expected
        assert "TảibảnPDF" not in printed and "Xácminhgiấynày" not in printed
    assert csp_errors == []


def test_agency_form_on_the_verdict_page(app, session, master, signing_key, browser):
    add_person(session)
    a = assign(session, master)
    csp_errors: list[str] = []
    with serve(app) as url:
        page = _page(browser, 360, csp_errors)
        page.goto(f"{url}/v/{a.credential.token}")
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "valid"
        assert PURPOSE in page.inner_text(".assignment-details")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.fill("#agency", "Sở Nội vụ tỉnh Phú Yên")
        page.click(".agency-check button")
        page.wait_for_load_state()
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "wrong_agency"
        assert page.input_value("#agency") == "Sở Nội vụ tỉnh Phú Yên"
        TEST_OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(TEST_OUTPUT / "assignment-wrong-agency-360.png"), full_page=True)

        page.fill("#agency", "so noi vu tinh khanh hoa")
        page.click(".agency-check button")
        page.wait_for_load_state()
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "valid"
        page.click(".assignment-details a")
        page.wait_for_load_state()
        assert page.url.endswith(f"/v/{a.credential.token}/letter")
    assert csp_errors == []
