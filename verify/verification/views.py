"""The verdict: the page a scanned QR code opens (``/v/<token>``), the verify API,
and the photo printed on a card. Views parse, call ``verify_on``, render; the
verdict's words are ``verify.core.texts``, translated here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from keys.contract import VERIFY_API_PATH, VERIFY_PREFIX
from registry.alerts.service import record_check
from registry.platform.clock import now
from registry.platform.config import base_url, master_key
from registry.platform.db import db, read_engine
from registry.platform.forms import json_object
from registry.platform.i18n import translate
from registry.platform.web import csrf, public_cache, wants_json
from registry.queries import staff_photo as load_photo
from verify.core.agency import MAX_AGENCY_INPUT
from verify.core.texts import EXPLANATIONS, HEADLINES
from verify.core.verdicts import Verdict
from verify.errors import ValidationError
from verify.receipts.service import issue_receipt
from verify.verification.answers import result_json
from verify.verification.service import EXPECT_TYPS, MAX_TOKEN_FIELD, Result, expect_value, verify_on
from verify.warnings.service import WarningRef, warnings_naming_staff

bp = Blueprint("verify", __name__)

OWN_ORIGIN = "chinhdanh.own_origin"
TEMPLATE = "verify/verdict.html"  # the scan page (also rendered by verify.verification.page)
MAX_STAFF_CODE = 32
NEVER_DOES = (
    _l("The Centre never asks for money, fees or transfers to write or publish an article."),
    _l("The Centre contacts agencies only through the official channels listed on this service."),
    _l("The Centre never asks you to send documents to a personal email or chat account."),
)


def headline(result: Result) -> str:
    return translate(HEADLINES[result.verdict])


def explanation(result: Result) -> str:
    """What the verdict means, naming the foreign site of a forged card's QR code."""
    return translate(EXPLANATIONS[result.verdict], {"host": result.foreign_host or "", "server": base_url()})


def never_does_lines() -> list[Any]:
    """From configuration (CENTRE_NEVER_DOES, lines separated by '|'), else the defaults."""
    configured = current_app.config.get("CENTRE_NEVER_DOES")
    if configured:
        return [line.strip() for line in str(configured).split("|") if line.strip()]
    return list(NEVER_DOES)


@bp.app_context_processor
def _verdict_texts() -> dict[str, Any]:
    return {"headline": headline, "explanation": explanation, "never_does_lines": never_does_lines()}


def service_origin() -> str:
    """PUBLIC_BASE_URL's origin, computed once at start-up (app.py)."""
    return str(current_app.extensions[OWN_ORIGIN])


def verify_presented(token_text: str, agency: str = "", expect: str = "") -> Result:
    """Verify, checking an assignment against the officer's agency when one is given.
    A check by a named agency is noted for the holder's daily digest of checks."""
    result = verify_on(
        read_engine(),
        token_text,
        issuer=base_url(),
        own_origin=service_origin(),
        now=now(),
        typs=EXPECT_TYPS[expect],
        agency=agency,
    )
    if agency.strip() and result.credential is not None:
        session = db()
        record_check(
            session,
            staff_code=result.credential.staff.code,
            credential_id=result.credential.id,
            agency=agency,
            verdict=result.verdict.value,
            at=result.checked_at,
        )
        session.commit()
    return result


def public_warnings_for(result: Result) -> tuple[WarningRef, ...]:
    """The Centre's published warnings that name the checked card's staff code or its
    holder's own phone or email: an impostor may be using this very card."""
    staff = result.credential.staff if result.credential is not None else None
    if staff is None:
        return ()
    return warnings_naming_staff(db(), staff.code, phone=staff.phone, email=staff.email)


def verdict_page_body(result: Result, *, receipt_token: str | None = None) -> str:
    """The verdict page; it offers the receipt's PDF of ``receipt_token`` (the token
    as presented; the parsed token when not given)."""
    return render_template(
        TEMPLATE,
        result=result,
        data=result_json(result),
        ok=result.verdict is Verdict.VALID,
        public_warnings=public_warnings_for(result),
        receipt_token=receipt_token or result.token,
    )


def _expect_param(payload: dict[str, Any] | None) -> str:
    """``expect`` from the query, the form or the JSON body; raise ValidationError."""
    value: object = request.values.get("expect", "")
    if payload is not None and "expect" in payload:
        value = payload["expect"]
    expect = expect_value(value)
    if expect is None:
        raise ValidationError("expect must be assignment or credential", field="expect")
    return expect


RECEIPT_WORDS = {"1": True, "true": True, "0": False, "false": False, "": False}


def _receipt_param(payload: dict[str, Any] | None) -> bool:
    """``receipt`` from the query, the form or the JSON body; raise ValidationError."""
    value: object = request.values.get("receipt", "")
    if payload is not None and "receipt" in payload:
        value = payload["receipt"]
    if isinstance(value, bool):
        return value
    wanted = RECEIPT_WORDS.get(str(value).strip().lower()) if isinstance(value, str | int) else None
    if wanted is None:
        raise ValidationError("receipt must be 1 or 0", field="receipt")
    return wanted


def _agency_param(payload: dict[str, Any] | None) -> str:
    value = request.values.get("agency", "")
    if payload is not None and isinstance(payload.get("agency"), str):
        value = payload["agency"]
    return value[:MAX_AGENCY_INPUT]


@bp.get(f"{VERIFY_PREFIX}<token>")
def verdict_page(token: str) -> Response | str:
    """The verdict page of a scanned QR code; with ``Accept: application/json`` the
    same answer as the verify API.
    ---
    get:
      tags: [verification]
      summary: Verdict on a credential or assignment token (the URL in every QR code)
      parameters:
        - name: token
          in: path
          required: true
          schema: {type: string, minLength: 1, maxLength: 8192}
        - name: agency
          in: query
          required: false
          description: The officer's agency (a name or an email domain), checked against an assignment.
          schema: {type: string, maxLength: 200}
        - name: expect
          in: query
          required: false
          description: What the person presented; a token of the other kind answers malformed.
          schema: {type: string, enum: [assignment, credential]}
        - lang  # components.parameters
      responses:
        "200":
          description: The verdict (every verdict, "malformed" included, is a 200).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/VerifyAnswer"}
            text/html: {}
        "400":
          description: >-
            An expect other than assignment or credential, or a JSON body that is not a
            JSON object (invalid_json) or is nested too deep (json_too_deep).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
            text/html: {}
        "413":
          description: A JSON body over 64 KiB.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
            text/html: {}
    """
    payload = json_object()
    result = verify_presented(token, _agency_param(payload), _expect_param(payload))
    if wants_json():
        return jsonify(result_json(result))
    return make_response(verdict_page_body(result, receipt_token=token), 200)


@bp.route(VERIFY_API_PATH, methods=["GET", "POST"])
def api_verify() -> Response:
    """Verify a token or a full QR URL.
    ---
    get:
      tags: [verification]
      summary: Verify a credential or assignment token (or the full QR URL)
      parameters:
        - name: token
          in: query
          required: true
          schema: {type: string, maxLength: 8192}
        - name: agency
          in: query
          required: false
          schema: {type: string, maxLength: 200}
        - name: expect
          in: query
          required: false
          schema: {type: string, enum: [assignment, credential]}
        - name: receipt
          in: query
          required: false
          description: >-
            1 adds "receipt": a compact JWS (typ verification-receipt+jwt) signed by the
            active signing key, verifiable with /.well-known/jwks.json, recording this answer.
          schema: {type: string, enum: ["0", "1", "true", "false"]}
      responses: &verify_responses
        "200":
          description: The verdict (every verdict, "malformed" included, is a 200).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/VerifyAnswer"}
        "400":
          $ref: "#/components/responses/Error"
          description: >-
            An expect other than assignment or credential, a receipt other than 0 or 1,
            or a JSON body that is not a JSON object (invalid_json) or is nested too deep
            (json_too_deep).
        "413":
          $ref: "#/components/responses/Error"
          description: A token far longer than any credential, or a JSON body over 64 KiB.
        "503":
          $ref: "#/components/responses/Error"
          description: A receipt was asked for and no signing key is active (no_signing_key).
    post:
      tags: [verification]
      summary: Verify a credential or assignment token (or the full QR URL)
      requestBody:
        required: true
        content:
          application/json:
            schema: &verify_body
              type: object
              required: [token]
              properties:
                token: {type: string, maxLength: 8192}
                agency: {type: string, maxLength: 200}
                expect: {type: string, enum: [assignment, credential]}
                receipt: {type: string, enum: ["0", "1", "true", "false"]}
          application/x-www-form-urlencoded:
            schema: *verify_body
      responses: *verify_responses
    """
    payload = json_object()
    if request.method == "GET":
        token = request.args.get("token", "")
    elif payload is not None:
        token = payload.get("token", "")
        if not isinstance(token, str):
            token = ""
    else:
        token = request.form.get("token", "")
    if len(token) > MAX_TOKEN_FIELD:
        abort(413, "the token is far longer than any credential")
    agency = _agency_param(payload)
    wants_receipt = _receipt_param(payload)
    result = verify_presented(token, agency, _expect_param(payload))
    answer = result_json(result)
    if wants_receipt:
        answer["receipt"] = issue_receipt(db(), master_key(), result, issuer=base_url(), agency=agency).token
    return jsonify(answer)


csrf.exempt(api_verify)  # a public JSON API with no session to protect


@bp.get("/api/v1/staff/<code>/photo")
def staff_photo(code: str) -> Response:
    """The photo printed on a staff member's card.
    ---
    get:
      tags: [verification]
      summary: A staff member's card photo
      parameters:
        - name: code
          in: path
          required: true
          schema: {type: string, minLength: 1, maxLength: 32}
      responses:
        "200":
          description: The photo.
          content:
            image/jpeg: {}
            image/png: {}
            image/webp: {}
        "404":
          $ref: "#/components/responses/Error"
          description: No such staff member, no photo, or a departed person (whose photo is never served).
    """
    if len(code) > MAX_STAFF_CODE:
        abort(404)
    found = load_photo(db(), code)
    if found is None:
        abort(404)
    resp = make_response(found[0])
    resp.mimetype = found[1]
    return public_cache(resp, 3600)
