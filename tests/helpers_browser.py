"""Debian's chromium driven by Playwright (never a browser download), shared by the
browser tests: where it is, the marks that skip without it, and how to launch it
(the ``browser`` fixture in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
NEEDS_CHROMIUM = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@contextmanager
def launched() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


PHONE = {"width": 360, "height": 780}  # the narrowest phone screen the pages are made for


def phone_page(browser: Any) -> Any:
    """A page as a phone shows it with JavaScript off: what the public pages must work in."""
    return browser.new_page(viewport=PHONE, java_script_enabled=False)
