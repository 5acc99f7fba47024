"""The printable card of a credential: ID-1 size (85.6 × 54 mm), photo, name, title,
unit, validity, the QR code at 35 mm or more, and one line on how to verify."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy.orm import Session

from keys.contract import verification_url
from registry import qr
from registry.credentials.models import Credential
from registry.platform.config import base_url
from registry.queries import staff_photo

CARD_CSS = Path(__file__).resolve().parents[2] / "static" / "card.css"


def card_context(session: Session, cred: Credential, *, photo_src: str | None = None) -> dict[str, Any]:
    """What the card template shows. The photo is ``photo_src`` when given (the
    console's own copy), else inlined, so that the page prints without the server."""
    url = verification_url(base_url(), cred.token)
    if cred.staff.photo_mime and photo_src is None:
        found = staff_photo(session, cred.staff.code)
        if found:
            photo_src = f"data:{found[1]};base64,{base64.b64encode(found[0]).decode()}"
    return {
        "cred": cred,
        "staff": cred.staff,
        "url": url,
        "qr_svg": Markup(qr.svg(url)),  # noqa: S704 - segno output
        "photo_src": photo_src if cred.staff.photo_mime else None,
        "verify_host": base_url(),
    }


def render_card_standalone(session: Session, cred: Credential) -> str:
    """One self-contained HTML file (CSS and photo inlined) for printing offline."""
    return render_template(
        "registry/card.html",
        standalone=True,
        card_css=Markup(CARD_CSS.read_text(encoding="utf-8")),  # noqa: S704 - our file
        **card_context(session, cred),
    )
