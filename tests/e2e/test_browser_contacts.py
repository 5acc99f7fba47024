"""A departed collaborator's old card in Debian's chromium, as an officer sees it on a
360 px phone with JavaScript off: REVOKED, and the Centre's official contacts to call
back on, never the departed person's own phone, email or photo. Also the forged card
whose QR code points at another website."""

from __future__ import annotations

from factories import NOW, TEST_OUTPUT, add_official_channels, add_person, issue
from helpers_browser import NEEDS_CHROMIUM, phone_page
from helpers_server import serve
from test_callback_contacts import (
    CENTRE_PHONE_DIGITS,
    EMAIL,
    PHONE,
    assert_centre_contacts,
    assert_no_own_contacts,
    digits_joined,
    jpeg,
)
from test_foreign_site import EVIL, EVIL_HOST, card_photo

from registry.staff.models import StaffStatus
from registry.staff.photos import set_photo
from registry.staff.service import change_status, get_staff

pytestmark = [*NEEDS_CHROMIUM]


def test_departed_persons_card_shows_the_centres_contacts_at_360px(app, session, master, signing_key, browser):
    add_official_channels(session)
    add_person(session, phone=PHONE, email=EMAIL)
    set_photo(get_staff(session, "TTTT-001"), jpeg(), "image/jpeg")
    session.commit()
    cred = issue(session, master, now=NOW)
    change_status(session, "TTTT-001", StaffStatus.DEPARTED, actor="test", now=NOW)
    session.commit()
    TEST_OUTPUT.mkdir(exist_ok=True)
    with serve(app) as url:
        page = phone_page(browser)
        for lang, words in (("vi", "THU HỒI"), ("en", "REVOKED")):
            page.goto(f"{url}/v/{cred.token}?lang={lang}")
            assert page.locator("[data-verdict]").get_attribute("data-verdict") == "revoked"
            assert words in page.inner_text("[data-verdict]")
            body = page.inner_text("body")
            assert_no_own_contacts(body)
            assert_no_own_contacts(page.content())
            assert_centre_contacts(page.content())
            assert CENTRE_PHONE_DIGITS in digits_joined(page.inner_text(".centre-contacts"))
            assert page.locator("img.photo").count() == 0
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            page.screenshot(path=str(TEST_OUTPUT / f"verdict-departed-360-{lang}.png"), full_page=True)


def test_forged_qr_photo_names_the_foreign_site_at_360px(app, session, master, signing_key, browser):
    add_person(session)
    cred = issue(session, master)
    photo = card_photo(f"{EVIL}/v/{cred.token}")
    TEST_OUTPUT.mkdir(exist_ok=True)
    with serve(app) as url:
        page = phone_page(browser)
        page.goto(f"{url}/?lang=en")
        page.set_input_files("#image", files=[{"name": "card.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        page.click("#photo button[type=submit]")
        assert page.locator("[data-verdict]").get_attribute("data-verdict") == "foreign_site"
        text = page.inner_text("[data-verdict]")
        assert "FORGED CARD" in text and EVIL_HOST in text
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(TEST_OUTPUT / "verdict-foreign-site-360.png"), full_page=True)
