"""The public pages in a real browser: Playwright driving Debian's chromium (never a
downloaded browser) against the app served on a free local port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from factories import BASE_URL, MASTER_B64, NOW, TEST_OUTPUT
from flask import Flask
from helpers_browser import NEEDS_CHROMIUM, launched
from helpers_server import serve

PHONE_WIDTH = 360
TIMEOUT_MS = 10_000  # any single page action; the whole module stays well under a minute

pytestmark = [
    *NEEDS_CHROMIUM,
    pytest.mark.slow,
]


@pytest.fixture()
def seeded(app: Flask) -> dict[str, Any]:
    from keys.crypto import MasterKey
    from registry.demo.service import load_demo

    session = app.extensions["chinhdanh.sessionmaker"]()
    master = MasterKey.from_b64(MASTER_B64)
    demo: dict[str, Any] = load_demo(
        session, master, base_url=BASE_URL, now=NOW, actor="test"
    )  # channels, live codes too
    session.commit()
    session.close()
    return demo


@pytest.fixture()
def server(app: Flask, seeded: dict[str, Any]) -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as chromium:
        yield chromium


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 780}, locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    # a CSP violation or a script error shows up on the console; failed loads are
    # checked by URL instead, since the browser asks for /favicon.ico on its own
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None)
    pg.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )
    yield pg
    context.close()
    assert errors == []


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_look_up_a_phone_and_read_the_answer(page: Any, server: str) -> None:
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.get_by_label("Số điện thoại, email, mã cán bộ hoặc họ và tên").fill("+84 912 345 678")
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    answer = page.locator("[data-answer]")
    assert answer.get_attribute("data-answer") == "official_staff"
    assert "CHÍNH THỨC" in answer.inner_text()
    assert page.locator(".lookup-person .name").first.inner_text() == "Nguyễn Văn Đức"
    no_sideways_scroll(page)


def test_name_search_lists_namesakes_and_unknown_offers_a_report(page: Any, server: str) -> None:
    page.goto(server + "/?q=nguyen+van+duc")
    assert page.locator(".lookup-person").count() == 2
    assert page.locator('[data-warning="namesakes"]').count() == 1
    page.goto(server + "/?q=ttttt.tdkt%40gmail.com")
    assert page.locator("[data-answer]").get_attribute("data-answer") == "unknown"
    assert page.locator('[data-warning="uses_centre_name"]').count() == 1
    assert page.get_by_role("link", name="Báo cáo mạo danh").first.is_visible()


def test_open_a_qr_url(page: Any, server: str, seeded: dict[str, Any]) -> None:
    path = urlsplit(seeded["url"]).path  # the QR code's URL, on this test server
    page.goto(server + path)
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "valid"
    assert "Nguyễn Văn Đức" in page.locator(".card-details").inner_text()
    no_sideways_scroll(page)


def test_check_a_live_code(page: Any, server: str, seeded: dict[str, Any]) -> None:
    codes = {e["staff_code"]: e["otpauth_uri"] for e in seeded["live_codes"]}
    assert "TTTT-002" in codes, seeded
    uri = codes["TTTT-002"]
    totp = pyotp.TOTP(parse_qs(urlsplit(uri).query)["secret"][0])
    page.goto(server + "/")
    page.get_by_label("Mã cán bộ", exact=True).fill("tttt-002")
    page.get_by_label("Mã xác thực (6 chữ số)").fill(totp.at(NOW))  # the app's clock stands at NOW
    page.get_by_role("button", name="Kiểm tra mã").click()
    assert page.locator("[data-live-code]").get_attribute("data-live-code") == "valid"
    assert "Trần Thị Minh Hằng" in page.locator(".lookup-person").inner_text()


def test_switch_to_english_and_it_is_remembered(page: Any, server: str) -> None:
    page.goto(server + "/")
    page.get_by_role("link", name="EN", exact=True).click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Is this person really from the Centre?"
    page.goto(server + "/?q=0999888777")  # no ?lang: the cookie keeps English
    assert page.locator("html").get_attribute("lang") == "en"
    assert "UNKNOWN" in page.locator("[data-answer]").inner_text()


def test_answers_without_javascript(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": PHONE_WIDTH, "height": 780})
    try:
        page = context.new_page()
        page.goto(server + "/")
        page.get_by_label("Số điện thoại, email, mã cán bộ hoặc họ và tên").fill("0912345678")
        page.get_by_role("button", name="Kiểm tra", exact=True).click()
        assert page.locator("[data-answer]").get_attribute("data-answer") == "official_staff"
    finally:
        context.close()


CONTRAST_JS = """
(selectors) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = {};
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    if (!el) { out[sel] = null; continue; }
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    out[sel] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  return out;
}
"""
WCAG_AA = 4.5  # normal-size text


def test_text_contrast_meets_wcag_aa(page: Any, server: str) -> None:
    selectors = [
        "body", ".brand-title", ".lead", "label[for=q]", "button", "[data-answer] .answer-headline",
        "[data-answer] p:nth-of-type(2)", ".warning", ".callback h3", ".howto li", ".site-footer p", "a",
    ]  # fmt: skip
    page.goto(server + "/?q=ttttt.tdkt%40gmail.com")
    ratios = page.evaluate(CONTRAST_JS, selectors)
    assert all(ratios[s] is not None for s in selectors), ratios
    low = {s: r for s, r in ratios.items() if not r >= WCAG_AA}  # NaN (an unreadable colour) fails too
    assert low == {}


def test_screenshot_at_360_px(page: Any, server: str) -> None:
    page.goto(server + "/?q=Nguyen+Van+Duc")
    no_sideways_scroll(page)
    # under the test run's output, beside the other browser tests' screenshots
    shot = Path(os.environ.get("SCREENSHOT_DIR") or TEST_OUTPUT) / "home-360.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    from PIL import Image

    with Image.open(shot) as image:
        assert image.width == PHONE_WIDTH
        assert image.height > 1000
    for label in ("q", "staff_code", "code", "image"):
        assert page.locator(f"label[for={label}]").count() == 1
