"""The verdict page in Debian's chromium: what an officer sees after scanning a card,
on a 360 px phone screen, in both languages, with JavaScript off."""

from __future__ import annotations

from factories import TEST_OUTPUT, add_person, issue
from helpers_browser import NEEDS_CHROMIUM, phone_page
from helpers_server import serve

from registry.credentials import service as credentials
from registry.credentials.models import CredentialStatus

pytestmark = [
    *NEEDS_CHROMIUM,
]


def test_scanned_card_shows_valid_then_revoked(app, session, master, signing_key, browser):
    add_person(session)
    cred = issue(session, master)
    TEST_OUTPUT.mkdir(exist_ok=True)
    with serve(app) as url:
        page = phone_page(browser)
        page.goto(f"{url}/v/{cred.token}")
        verdict = page.locator("[data-verdict]")
        assert verdict.get_attribute("data-verdict") == "valid"
        assert "HỢP LỆ" in verdict.inner_text()
        assert page.locator("html").get_attribute("lang") == "vi"
        assert "0912 345 678" in page.inner_text("body")
        # no sideways scrolling on a 360 px screen, even with a 600-character token in the URL
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(TEST_OUTPUT / "verdict-valid-360.png"), full_page=True)

        credentials.change_status(session, cred.id, CredentialStatus.REVOKED, actor="t", now=cred.issued_at)
        session.commit()
        page.goto(f"{url}/v/{cred.token}?lang=en")
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "revoked"
        assert "REVOKED" in page.inner_text("[data-verdict]")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("a[href^='/report?']").count() == 1
        page.screenshot(path=str(TEST_OUTPUT / "verdict-revoked-360.png"), full_page=True)


def test_no_csp_violations_on_the_verdict_page(app, session, master, signing_key, browser):
    add_person(session)
    cred = issue(session, master)
    with serve(app) as url:
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.goto(f"{url}/v/{cred.token}")
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "valid"
        assert not [p for p in problems if "Content Security Policy" in p], problems
        # the stylesheet loaded: the verdict banner is green
        colour = page.eval_on_selector("[data-verdict]", "el => getComputedStyle(el).backgroundColor")
        assert colour == "rgb(20, 108, 46)"
