"""The report form in Debian's chromium with JavaScript off, on a 360 px phone:
no sideways scrolling, no Content-Security-Policy violation, the honeypot out of
sight, errors shown per field, and the receipt after a real submission with a
file, markup in the report shown as text."""

from __future__ import annotations

from typing import Any

from helpers_browser import NEEDS_CHROMIUM
from helpers_reports import jpeg_with_exif
from helpers_server import serve
from sqlalchemy import select

from verify.reports.models import Report

pytestmark = [
    *NEEDS_CHROMIUM,
]


def _phone(browser: Any, console: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page.on("console", lambda msg: console.append(msg.text))
    return page


def test_report_form_on_a_phone_without_javascript(app, session, browser, tmp_path):
    photo = tmp_path / "tin-nhan-zalo.jpg"
    photo.write_bytes(jpeg_with_exif((800, 600)))
    console: list[str] = []
    with serve(app) as url:
        page = _phone(browser, console)
        page.goto(f"{url}/report?claimed_name=Nguy%E1%BB%85n%20V%C4%83n%20A&staff_code=TTTT-001")
        assert page.locator("html").get_attribute("lang") == "vi"
        assert page.input_value("#claimed_name") == "Nguyễn Văn A"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # the honeypot is out of sight (off screen, where bots still find it)
        assert page.evaluate("document.getElementById('website').getBoundingClientRect().right") <= 0

        # a first try with a required field missing: the message sits by the field
        page.select_option("#channel", "zalo")
        page.fill("#request_text", '<script>alert("x")</script> chuyển 3 triệu phí đăng bài')
        page.fill("#phone", "0987 654 321")
        page.fill("#reporter_contact", "Chị Lan, 0239 385 5555")
        page.click("button[type=submit]")
        assert page.is_visible("#reporter_agency-error")
        assert "Cơ quan, đơn vị của bạn" in page.inner_text("#reporter_agency-error")
        assert page.input_value("#phone") == "0987 654 321"  # kept
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.fill("#reporter_agency", "Sở Nội vụ tỉnh Hà Tĩnh")
        page.set_input_files("#evidence", str(photo))
        page.click("button[type=submit]")
        page.wait_for_selector(".receipt")
        reference = page.get_attribute(".receipt", "data-reference")
        assert reference and reference.startswith("BC-")
        assert reference in page.inner_text(".reference")
        # the script tag is text on the page, not an element
        assert page.locator(".request_text script").count() == 0
        assert '<script>alert("x")</script>' in page.inner_text(".request_text")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.emulate_media(media="print")
        assert not page.is_visible(".site-header")
        assert page.is_visible(".reference")

    assert not [m for m in console if "Content Security Policy" in m], console
    report = session.scalar(select(Report))
    assert report is not None and report.reference == reference and len(report.files) == 1
