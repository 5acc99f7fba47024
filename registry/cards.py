"""The printable card of a credential: ID-1 size (85.6 × 54 mm), photo, name, title,
unit, validity, the QR code at 35 mm or more, and one line on how to verify."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy.orm import Session

from registry import credentials, qr
from registry.models import Credential
from registry.queries import staff_photo
from registry.web import base_url

CARD_CSS = Path(__file__).resolve().parent.parent / "static" / "card.css"


def card_context(session: Session, cred: Credential, *, inline_photo: bool) -> dict[str, Any]:
    url = credentials.verification_url(base_url(), cred.token)
    photo_src = None
    if cred.staff.photo_mime:
        if inline_photo:
            found = staff_photo(session, cred.staff.code)
            if found:
                photo_src = f"data:{found[1]};base64,{base64.b64encode(found[0]).decode()}"
        else:
            photo_src = f"/api/v1/staff/{cred.staff.code}/photo"
    return {
        "cred": cred,
        "staff": cred.staff,
        "url": url,
        "qr_svg": Markup(qr.svg(url)),  # noqa: S704 - segno output
        "photo_src": photo_src,
        "verify_host": base_url(),
    }


def render_card_standalone(session: Session, cred: Credential) -> str:
    """One self-contained HTML file (CSS and photo inlined) for printing offline."""
    return render_template(
        "registry/card.html",
        standalone=True,
        card_css=Markup(CARD_CSS.read_text(encoding="utf-8")),  # noqa: S704 - our file
        **card_context(session, cred, inline_photo=True),
    )
