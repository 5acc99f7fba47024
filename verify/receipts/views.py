"""The receipt's pages: ``/v/<token>/receipt.pdf`` checks the token, signs a receipt
of the answer and prints it on one A4 page with its QR code; ``/r/<receipt>`` shows a
receipt checked (its claims only when it is genuine; a forged or changed one gets a
plain refusal). Both in Vietnamese, English with ``lang=en``; no script needed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from keys.contract import RECEIPT_PDF_PAGE, RECEIPT_PREFIX, receipt_url, verification_url
from registry.platform.config import base_url, master_key
from registry.platform.db import db
from registry.platform.i18n import translate, vn_datetime
from registry.platform.web import limiter, pdf_response, wants_json
from verify.core.agency import MAX_AGENCY_INPUT
from verify.core.receipts import HEADLINES as RECEIPT_HEADLINES
from verify.core.receipts import ReceiptStatus
from verify.core.texts import HEADLINES
from verify.core.verdicts import Verdict
from verify.errors import ValidationError
from verify.receipts.pdf import ReceiptPage, render_receipt_pdf
from verify.receipts.service import check_stored, checked_at, issue_receipt
from verify.verification.service import expect_value
from verify.verification.views import verify_presented

bp = Blueprint("receipts", __name__)

PDF_RATE_LIMIT = "20 per minute"  # a render costs about 0.2 s of CPU; an officer needs one
NO_STORE = "no-store"  # each receipt is signed afresh, with its own time and id
KIND_WORDS = {"staff": _l("Staff card"), "assignment": _l("Letter of introduction")}


def receipt_rows(claims: dict[str, Any]) -> list[tuple[str, str]]:
    """The receipt's facts as (label, value), in the request's language."""
    rows = [
        (_("Verdict"), translate(HEADLINES[Verdict(claims["verdict"])])),
        (_("Checked at (Viet Nam time)"), vn_datetime(checked_at(claims))),
    ]
    if "kind" in claims:
        rows.append((_("Checked document"), str(KIND_WORDS[claims["kind"]])))
    for name, label in (
        ("name", _("Full name")),
        ("sub", _("Staff code")),
        ("credential", _("Document id")),
        ("agency", _("Checked for the agency")),
    ):
        if name in claims:
            rows.append((label, claims[name]))
    rows.append((_("Receipt number"), claims["jti"]))
    rows.append((_("Issued by"), claims["iss"]))
    return rows


def _expect() -> str:
    expect = expect_value(request.args.get("expect", ""))
    if expect is None:
        raise ValidationError("expect must be assignment or credential", field="expect")
    return expect


@bp.get(verification_url("", "<token>", RECEIPT_PDF_PAGE))  # the URL shape of keys.contract, relative
@limiter.limit(PDF_RATE_LIMIT)
def receipt_pdf(token: str) -> Response:
    """The receipt of a verification, as a one-page A4 PDF.
    ---
    get:
      tags: [verification]
      summary: A signed receipt of the verification of a token, as a one-page PDF
      description: >-
        Verifies the token as /v/{token} does, signs a receipt of the answer (the same
        JWS as receipt=1 on the verify API) and prints its facts on one A4 page, in
        Vietnamese (English with lang=en), with the QR code of the receipt's page
        PUBLIC_BASE_URL/r/{receipt}. Every verdict gets a receipt. Not stored, not cached.
      parameters:
        - {name: token, in: path, required: true, schema: {type: string, minLength: 1, maxLength: 8192}}
        - {name: agency, in: query, required: false, schema: {type: string, maxLength: 200},
           description: The officer's agency (a name or an email domain), checked against an assignment.}
        - {name: expect, in: query, required: false, schema: {type: string, enum: [assignment, credential]}}
        - lang  # components.parameters
      responses:
        "200":
          description: The receipt.
          content:
            application/pdf:
              schema: {type: string, format: binary}
        "400":
          $ref: "#/components/responses/Error"
          description: An expect other than assignment or credential.
        "429":
          $ref: "#/components/responses/TooManyRequests"
          description: Too many receipts asked for from one address.
        "503":
          $ref: "#/components/responses/Error"
          description: No signing key is active (no_signing_key).
    """
    agency = request.args.get("agency", "")[:MAX_AGENCY_INPUT]
    result = verify_presented(token, agency, _expect(), path="receipt")
    receipt = issue_receipt(db(), master_key(), result, issuer=base_url(), agency=agency)
    page = ReceiptPage(
        title=_("VERIFICATION RECEIPT"),
        headline=translate(RECEIPT_HEADLINES[ReceiptStatus.GENUINE]),
        rows=receipt_rows(receipt.claims),
        explanation=_(
            "The Centre's verification service signed this receipt, and nothing in it has been changed since. "
            "It records the answer given at the time shown; to know the situation now, check the card or letter again."
        ),
        qr_caption=_("Check this receipt"),
        qr_note=_(
            "Scan the QR code (or click it) to see this receipt checked on the Centre's verification service. "
            "A receipt whose page does not say GENUINE RECEIPT has been changed and must not be trusted."
        ),
        lang=str(get_locale() or "vi"),
        checked_at=result.checked_at,
    )
    pdf = render_receipt_pdf(page, url=receipt_url(base_url(), receipt.token))
    return pdf_response(pdf, f"bien-ban-xac-minh-{receipt.claims['jti'][:8]}.pdf", inline=False)


@bp.get(f"{RECEIPT_PREFIX}<receipt>")
def receipt_page(receipt: str) -> Response:
    """A receipt checked: its facts when it is genuine, a refusal otherwise.
    ---
    get:
      tags: [verification]
      summary: Check a verification receipt (the URL in a receipt's QR code)
      description: >-
        Checks the receipt's signature against the Centre's signing keys (retired keys
        included; a revoked key vouches for nothing). The answer is a status, with the
        receipt's claims only when it is genuine. Every status is a 200.
      parameters:
        - {name: receipt, in: path, required: true, schema: {type: string, minLength: 1, maxLength: 8192}}
        - lang  # components.parameters
      responses:
        "200":
          description: The receipt's status, and its claims when genuine.
          content:
            application/json:
              schema:
                type: object
                required: [status, claims]
                properties:
                  status: {type: string, enum: [genuine, forged, unknown_key, key_revoked, malformed]}
                  claims: {type: [object, "null"]}
            text/html: {}
    """
    check = check_stored(db(), receipt, issuer=base_url())
    if wants_json():
        return jsonify({"status": check.status.value, "claims": check.claims})
    body = render_template(
        "receipts/receipt.html",
        check=check,
        headline=translate(RECEIPT_HEADLINES[check.status]),
        rows=receipt_rows(check.claims) if check.claims is not None else [],
    )
    resp = make_response(body, 200)
    resp.headers["Cache-Control"] = NO_STORE
    return resp
