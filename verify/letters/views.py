"""The letter of introduction of an assignment token: an A4 print view at
``/v/<token>/letter`` and a one-page PDF at ``/v/<token>/letter.pdf``.

Whoever holds the token may see its letter and nothing more: the token is verified
as an assignment first (a staff card's token is not a letter), and only a letter in
force (``valid``, or ``not_yet_valid`` for one that starts later) is shown. Anything
else gets a page that says why, with the verdict in ``data-verdict`` and a 4xx
status: 404 when the token is not a genuine assignment, 410 when the letter has been
withdrawn or has run out, 403 while it is suspended.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from flask import Blueprint, make_response, render_template
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from keys.contract import ASSIGNMENT_TYP, LETTER_PAGE, LETTER_PDF_PAGE, verification_url
from registry import qr
from registry.assignments.letters import LetterRecord, find_letter
from registry.assignments.pdf import CHANNEL_LABELS, render_letter_pdf, vn_long_date
from registry.platform.clock import now
from registry.platform.config import base_url
from registry.platform.db import db
from registry.platform.errors import error_response
from registry.platform.web import limiter, pdf_response, wants_json
from verify.core.verdicts import Verdict
from verify.verification.service import Result, verify_token

bp = Blueprint("letters", __name__)

ASSIGNMENT_TYPS = frozenset({ASSIGNMENT_TYP})
SHOWN = frozenset({Verdict.VALID, Verdict.NOT_YET_VALID})  # a letter that starts later is still the Centre's
NOT_A_LETTER = frozenset({Verdict.MALFORMED, Verdict.UNKNOWN_KEY, Verdict.BAD_SIGNATURE, Verdict.FOREIGN_SITE})
REFUSAL_STATUS = {Verdict.SUSPENDED: 403}  # may be reinstated; every other withdrawal is 410
PDF_RATE_LIMIT = "20 per minute"  # a render costs about 0.3 s of CPU; a person needs one or two
QR_HTML_SCALE = 6  # px per module of the page's QR image: sharp when printed at 40 mm
NO_STORE = "no-store"  # a suspension must show at once, not after a cache expires


def verify_assignment(
    session: Session, text: str | bytes, *, issuer: str, now: datetime, agency_matches: Any = None
) -> Result:
    """Verify ``text`` (a token or QR URL) as an assignment and nothing else: a staff
    credential's token answers ``malformed`` here, whatever its signature."""
    return verify_token(session, text, issuer=issuer, now=now, typs=ASSIGNMENT_TYPS, agency_matches=agency_matches)


def _load(token: str) -> tuple[Result, LetterRecord | None]:
    result = verify_assignment(db(), token, issuer=base_url(), now=now())
    if result.verdict not in SHOWN or result.credential is None:
        return result, None
    return result, find_letter(db(), result.credential.id)


def _refused(result: Result) -> Response:
    if result.verdict in NOT_A_LETTER or result.credential is None:
        status = 404
    else:
        status = REFUSAL_STATUS.get(result.verdict, 410)
    if wants_json():
        message = _("No letter is shown: the verdict is %(verdict)s.", verdict=result.verdict.value)
        return error_response(status, "letter_unavailable", message)
    body = render_template(
        "letters/refused.html",
        result=result,
        status=status,
        verify_path=verification_url("", result.token) if result.token else None,
    )
    resp = make_response(body, status)
    resp.headers["Cache-Control"] = NO_STORE
    return resp


def _pdf_name(letter: LetterRecord) -> str:
    """ASCII, so every mail client keeps it: giay-gioi-thieu-2026-07.pdf."""
    return f"giay-gioi-thieu-{letter.year}-{letter.number.split('/')[0]}.pdf"


@bp.get(verification_url("", "<token>", LETTER_PAGE))  # the URL shapes of keys.contract, relative
def letter_page(token: str) -> Response:
    result, letter = _load(token)
    if letter is None or result.token is None:
        return _refused(result)
    url = verification_url(base_url(), result.token)
    qr_png = base64.b64encode(qr.png(url, scale=QR_HTML_SCALE)).decode("ascii")
    body = render_template(
        "letters/letter.html",
        letter=letter,
        result=result,
        long_date=vn_long_date(letter.issued_at, letter.place),
        start=letter.not_before or letter.issued_at,
        qr_src=Markup(f"data:image/png;base64,{qr_png}"),  # noqa: S704 - base64 of our own PNG
        verify_path=verification_url("", result.token),
        pdf_path=verification_url("", result.token, LETTER_PDF_PAGE),
        verify_host=base_url(),
        channel_labels=CHANNEL_LABELS,
    )
    resp = make_response(body, 200)
    resp.headers["Cache-Control"] = NO_STORE
    return resp


@bp.get(verification_url("", "<token>", LETTER_PDF_PAGE))
@limiter.limit(PDF_RATE_LIMIT)
def letter_pdf(token: str) -> Response:
    """The letter of introduction of an assignment as a one-page A4 PDF.
    ---
    get:
      tags: [verification]
      summary: The letter of introduction of an assignment token, as PDF
      description: >-
        Whoever holds an assignment token (typ assignment+jwt) may fetch its letter:
        one A4 page in Vietnamese with selectable text, the fonts embedded, and the QR
        code of the verification URL. Only a letter in force is given (verdict valid,
        or not_yet_valid); a staff card's token is not a letter. Not cached.
      parameters:
        - {name: token, in: path, required: true, schema: {type: string, maxLength: 8192},
           description: The compact JWS of the assignment, as in its QR URL.}
      responses:
        "200":
          description: The letter.
          content:
            application/pdf:
              schema: {type: string, format: binary}
        "403":
          description: The assignment or its holder is suspended.
          content:
            text/html: {schema: {type: string}}
            application/json: {schema: {$ref: "#/components/schemas/Error"}}
        "404":
          description: The token is not a genuine assignment (malformed, unknown key, forged, or a staff card).
          content:
            text/html: {schema: {type: string}}
            application/json: {schema: {$ref: "#/components/schemas/Error"}}
        "410":
          description: The assignment was revoked, has expired, its holder left, or its key was revoked.
          content:
            text/html: {schema: {type: string}}
            application/json: {schema: {$ref: "#/components/schemas/Error"}}
        "429":
          description: Too many letters asked for from one address.
          content:
            text/html: {schema: {type: string}}
            application/json: {schema: {$ref: "#/components/schemas/Error"}}
    """
    result, letter = _load(token)
    if letter is None or result.token is None:
        return _refused(result)
    pdf = render_letter_pdf(letter, url=verification_url(base_url(), result.token))
    return pdf_response(pdf, _pdf_name(letter), inline=True)
