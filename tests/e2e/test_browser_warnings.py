"""The public warnings page as an officer sees it on a 360 px phone with JavaScript
off, in Debian's chromium: the warning with the impostor's contacts, never the
reporter, nothing wider than the screen. Screenshots go under test-output/."""

from __future__ import annotations

from factories import NOW, TEST_OUTPUT
from helpers_browser import NEEDS_CHROMIUM, phone_page
from helpers_server import serve
from test_warnings import REPORTER_NAME, WARNING_TEXT, assert_no_reporter, confirm, submit

from verify.warnings import service

pytestmark = [*NEEDS_CHROMIUM]


def test_warnings_page_at_360px_without_javascript(app, client, session, browser):
    ref = submit(client)
    confirm(session, ref)
    service.publish(session, ref, text=WARNING_TEXT, actor="reviewer", now=NOW)
    session.commit()
    TEST_OUTPUT.mkdir(exist_ok=True)
    with serve(app) as url:
        page = phone_page(browser)
        for lang, heading in (("vi", "Cảnh báo mạo danh"), ("en", "Warnings about impostors")):
            page.goto(f"{url}/warnings?lang={lang}")
            assert page.inner_text("h1") == heading
            card = page.locator("[data-warning-id='1']")
            assert card.count() == 1
            text = card.inner_text()
            assert "0987 654 321" in text and WARNING_TEXT in text
            assert REPORTER_NAME not in page.content()
            assert_no_reporter(page.inner_text("body"))
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.screenshot(path=str(TEST_OUTPUT / f"warnings-360-{lang}.png"), full_page=True)
        page.click("[data-warning-id='1'] .warning-title a")
        assert page.url.endswith("/warnings/1")
