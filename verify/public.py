"""The agency's side of the public site: the home page (search box, live-code check,
card-photo upload, how-to) and its JSON API (lookup, live code, photo verification).

Every answer works without JavaScript: the page forms post to views here that render
the same page with the answer. Views parse and bound the input, call a service,
commit what the service wrote (live-code failures and used steps), render.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from registry import livecode
from registry.channels import ChannelRecord
from registry.errors import ValidationError
from registry.queries import official_contacts
from registry.web import base_url, csrf, db, error_response, json_object, limiter, master_key, now, wants_json
from verify import openapi
from verify.agency import MAX_AGENCY_INPUT
from verify.answers import card_json, channel_json, result_json
from verify.callback import needs_centre_contacts, shows_own_contacts
from verify.lookup import MAX_QUERY, Answer, LookupResult, LookupWarning, WarningCode, lookup
from verify.qrdecode import MAX_IMAGE_BYTES, QrDecodeError, decode_qr_bounded
from verify.tokens import Result, verify_on
from verify.verdicts import Verdict
from verify.views import service_origin

bp = Blueprint("public", __name__)

# Per client address. A lookup is cheap and an officer may try several spellings;
# a live-code check guards a secret, so fewer; a photo costs real CPU to decode.
LOOKUP_LIMIT = "60 per minute; 600 per hour"
LIVE_CODE_LIMIT = "10 per minute; 60 per hour"
IMAGE_LIMIT = "10 per minute; 100 per hour"
MAX_STAFF_CODE_INPUT = 64
MAX_LIVE_CODE_INPUT = 16  # six digits, spaces allowed
# Multipart framing, the CSRF token and the agency field around a 5 MB photo; a larger
# body is refused with 413 before it is read.
UPLOAD_OVERHEAD = 64 * 1024
IMAGE_FIELDS = ("image", "photo", "file")  # accepted multipart names, first found wins

ANSWER_HEADLINES = {
    Answer.OFFICIAL_STAFF: _l("OFFICIAL: a staff member of the Centre"),
    Answer.OFFICIAL_CHANNEL: _l("OFFICIAL: a contact channel of the Centre"),
    Answer.REPORTED_IMPOSTOR: _l("REPORTED IMPOSTOR: do not proceed"),
    Answer.UNKNOWN: _l("UNKNOWN: not a Centre staff member or channel"),
}
ANSWER_EXPLANATIONS = {
    Answer.OFFICIAL_STAFF: _l(
        "This matches a staff member of the Centre. Impostors use real names and can fake a "
        "caller's number: before acting, call back on the official number shown below."
    ),
    Answer.OFFICIAL_CHANNEL: _l(
        "This is one of the Centre's official contacts. You can write or call back on it safely."
    ),
    Answer.REPORTED_IMPOSTOR: _l(
        "Agencies have reported this to the Centre as used by someone impersonating its staff, "
        "and the Centre has confirmed it. Do not proceed, and report the contact."
    ),
    Answer.UNKNOWN: _l(
        "This is not a staff member or an official channel of the Centre. Do not proceed, and report it to the Centre."
    ),
}
WARNING_TEXTS = {
    WarningCode.NAMESAKES: _l(
        "A name proves nothing: impostors use the names of real staff. Every staff member with "
        "this name is listed with photo and unit. Call back only on the official number shown, "
        "never on a number the caller gave you."
    ),
    WarningCode.STAFF_SUSPENDED: _l("A staff member listed here is suspended and may not act for the Centre now."),
    WarningCode.LOOKALIKE_DOMAIN: _l(
        "This address imitates an official address of the Centre (%(official)s) but is not one. "
        "It is a common trick of impostors."
    ),
    WarningCode.USES_CENTRE_NAME: _l(
        "This address uses the name of the Board or the Centre at a free email provider that "
        "anyone can sign up to. It is not an official address of the Centre."
    ),
    WarningCode.ALSO_REPORTED: _l("Reports also name this contact: someone may be faking it. Call back to be sure."),
}
LIVE_CODE_HEADLINES = {
    livecode.LiveCodeAnswer.VALID: _l("CORRECT CODE: this is the staff member's current live code"),
    livecode.LiveCodeAnswer.INVALID: _l("WRONG CODE: do not trust the caller"),
    livecode.LiveCodeAnswer.LOCKED: _l("LOCKED: too many wrong codes for this staff code"),
    livecode.LiveCodeAnswer.UNKNOWN_STAFF: _l("UNKNOWN STAFF CODE: do not trust the caller"),
}
LIVE_CODE_EXPLANATIONS = {
    livecode.LiveCodeAnswer.VALID: _l(
        "The caller has this staff member's authenticator right now. A code works only once: "
        "if it is read out again, it is refused."
    ),
    livecode.LiveCodeAnswer.INVALID: _l(
        "The code does not match, or it was already used. Ask for a fresh code once; if it is "
        "wrong again, end the call and call back on the official number."
    ),
    livecode.LiveCodeAnswer.LOCKED: _l(
        "Checks for this staff code are stopped until %(until)s because of repeated wrong codes. "
        "Anyone can cause this, so it proves nothing about the caller: call back on the "
        "official number shown instead."
    ),
    livecode.LiveCodeAnswer.UNKNOWN_STAFF: _l(
        "No active staff member of the Centre with a live code has this staff code."
    ),
}
QR_ERROR_TEXTS = {
    "too_large": _l("The photo is too large. Send a photo of at most 5 MB and 16 megapixels, as a phone takes it."),
    "not_an_image": _l("This file is not a photo. Send a JPEG, PNG or WebP picture of the card."),
    "truncated_image": _l("The photo is damaged or incomplete. Take or send it again."),
    "no_qr_code": _l(
        "No QR code was found in the photo. Take it again closer to the card, in good light, "
        "with the whole QR code in the picture."
    ),
    "too_complex": _l(
        "This photo is too complex to read in time. Take a photo of the card alone, closer, "
        "with the whole QR code in the picture."
    ),
    "busy": _l("Too many photos are being checked right now. Try again in a few seconds."),
}


# ------------------------------------------------------------------ serialisation


def warning_json(w: LookupWarning) -> dict[str, Any]:
    text = WARNING_TEXTS[w.code]
    message = str(text) % {"official": w.resembles or "—"} if w.code is WarningCode.LOOKALIKE_DOMAIN else str(text)
    body: dict[str, Any] = {"code": w.code.value, "message": message}
    if w.resembles:
        body["resembles"] = w.resembles
    return body


def lookup_json(result: LookupResult) -> dict[str, Any]:
    impostor = None
    if result.impostor is not None:
        impostor = {
            "count": result.impostor.count,
            "first_seen": result.impostor.first_seen.isoformat(),
            "last_seen": result.impostor.last_seen.isoformat(),
        }
    return {
        "answer": result.answer.value,
        "headline": str(ANSWER_HEADLINES[result.answer]),
        "message": str(ANSWER_EXPLANATIONS[result.answer]),
        "query": {"text": result.query.text, "kind": result.query.kind.value, "normalized": result.query.normal},
        "staff": [
            card_json(s, own_contacts=shows_own_contacts(s, valid=result.answer is Answer.OFFICIAL_STAFF))
            for s in result.staff
        ],
        "channel": channel_json(result.channel) if result.channel else None,
        "impostor": impostor,
        "warnings": [warning_json(w) for w in result.warnings],
        "official_contacts": [channel_json(c) for c in result.official_contacts],
        "checked_at": result.checked_at.isoformat(),
    }


def live_code_json(result: livecode.LiveCodeResult, contacts: tuple[ChannelRecord, ...]) -> dict[str, Any]:
    """The live-code answer, with ``contacts`` (the Centre's official channels)."""
    until = result.locked_until
    explanation = LIVE_CODE_EXPLANATIONS[result.answer]
    message = (
        str(explanation) % {"until": format_datetime(until, "HH:mm dd/MM/yyyy")}
        if until is not None
        else str(explanation)
    )
    staff = None
    if result.staff is not None:
        own = shows_own_contacts(result.staff, valid=result.answer is livecode.LiveCodeAnswer.VALID)
        staff = card_json(result.staff, own_contacts=own)
    return {
        "answer": result.answer.value,
        "headline": str(LIVE_CODE_HEADLINES[result.answer]),
        "message": message,
        "staff_code": result.staff_code,
        "locked_until": until.isoformat() if until else None,
        "staff": staff,
        "official_contacts": [channel_json(c) for c in contacts],
        "checked_at": result.checked_at.isoformat(),
    }


# ------------------------------------------------------------------ input


def _bounded(value: Any, limit: int, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text", field=field)
    if len(value) > limit:
        raise ValidationError(f"{field} is longer than {limit} characters", field=field)
    return value


def _live_code_input() -> tuple[str, str]:
    payload = json_object()
    if payload is not None:
        staff_code, code = payload.get("staff_code"), payload.get("code")
    else:
        staff_code, code = request.form.get("staff_code"), request.form.get("code")
    staff_code = _bounded(staff_code, MAX_STAFF_CODE_INPUT, "staff_code")
    code = _bounded(code, MAX_LIVE_CODE_INPUT, "code")
    if not staff_code.strip():
        raise ValidationError("staff_code is required", field="staff_code")
    if not code.strip():
        raise ValidationError("code is required", field="code")
    return staff_code, code


def _check_live_code() -> tuple[livecode.LiveCodeResult, dict[str, Any]]:
    """The live-code answer and its JSON, with the Centre's official contacts
    whenever it gives none of the person's own (verify.callback)."""
    staff_code, code = _live_code_input()
    session = db()
    result = livecode.check_code(session, master_key(), staff_code, code, at=now())
    session.commit()  # the used step or the failure, whatever the answer
    valid = result.answer is livecode.LiveCodeAnswer.VALID
    contacts = official_contacts(session) if needs_centre_contacts(result.staff, valid=valid) else ()
    return result, live_code_json(result, contacts)


def _uploaded_image() -> bytes:
    upload: FileStorage | None = next((request.files[f] for f in IMAGE_FIELDS if f in request.files), None)
    if upload is None:
        raise ValidationError("send the photo as a multipart field named image", field="image")
    return upload.stream.read(MAX_IMAGE_BYTES + 1)  # one byte more tells "too large" apart


def _verify_image(data: bytes) -> Result:
    text = decode_qr_bounded(data)
    agency = request.form.get("agency", "")[:MAX_AGENCY_INPUT]
    return verify_on(
        current_app.extensions["chinhdanh.read_engine"],
        text,
        issuer=base_url(),
        own_origin=service_origin(),
        now=now(),
        agency=agency,
    )


@bp.url_value_preprocessor
def _photo_upload_limits(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The photo endpoints' body limit (5 MB and the form around it), set before
    anything reads the body: URL value preprocessors run before every before_request
    hook, and CSRFProtect reads the form in one."""
    if endpoint in (f"{bp.name}.photo_form", f"{bp.name}.api_verify_image"):
        request.max_content_length = MAX_IMAGE_BYTES + UPLOAD_OVERHEAD


def _photo_error_headers(exc: QrDecodeError) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}


@bp.app_errorhandler(QrDecodeError)
def _qr_error(exc: QrDecodeError) -> Response:
    message = str(QR_ERROR_TEXTS.get(exc.code, exc.message))
    if exc.status < 500:
        resp = error_response(exc.status, exc.code, message)
    elif wants_json():  # "busy" is an answer to show, unlike the faults error_response hides
        resp = jsonify({"error": {"code": exc.code, "message": message}})
    else:
        resp = make_response(render_template("error.html", status=exc.status, code=exc.code, message=message))
    resp.status_code = exc.status
    resp.headers.update(_photo_error_headers(exc))
    return resp


# ------------------------------------------------------------------ pages


def _home(status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("q", "")
    context.setdefault("max_query", MAX_QUERY)
    return render_template("public/home.html", **context), status


@bp.get("/")
@limiter.limit(LOOKUP_LIMIT, exempt_when=lambda: not request.args.get("q"))
def home() -> tuple[str, int]:
    """The home page; with ``?q=`` it shows the lookup's answer."""
    q = request.args.get("q", "")
    if not q.strip():
        return _home()
    if len(q) > MAX_QUERY:
        return _home(400, q=q[:MAX_QUERY], lookup_error=_("The search is too long."))
    try:
        result = lookup(db(), q, now=now())
    except ValidationError:
        return _home(400, q=q, lookup_error=_("Type a phone number, an email, a staff code or a full name."))
    return _home(q=q, lookup=result, lookup_data=lookup_json(result))


@bp.post("/live-code")
@limiter.limit(LIVE_CODE_LIMIT)
def live_code_form() -> tuple[str, int]:
    """The page's live-code form (works without JavaScript)."""
    staff_code = request.form.get("staff_code", "")[:MAX_STAFF_CODE_INPUT]
    try:
        result, data = _check_live_code()
    except ValidationError as exc:
        message = (
            _("Type the six digits the caller reads from their app.")
            if exc.field == "code"
            else _("Type the staff code printed on the card, for example TTTT-001.")
        )
        return _home(400, live_staff_code=staff_code, live_error=message)
    return _home(live_staff_code=staff_code, live=result, live_data=data)


@bp.post("/check-photo")
@limiter.limit(IMAGE_LIMIT)
def photo_form() -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The page's photo upload: decode the card's QR code and show the verdict page."""
    try:
        result = _verify_image(_uploaded_image())
    except QrDecodeError as exc:
        page, status = _home(exc.status, photo_error=str(QR_ERROR_TEXTS.get(exc.code, exc.message)))
        return page, status, _photo_error_headers(exc)
    except ValidationError:
        return _home(400, photo_error=_("Choose a photo of the card first."))
    data = result_json(result)
    body = render_template("verify/verdict.html", result=result, data=data, ok=result.verdict is Verdict.VALID)
    return body, 200


# ------------------------------------------------------------------ JSON API


@bp.get("/api/v1/lookup")
@limiter.limit(LOOKUP_LIMIT)
def api_lookup() -> Response:
    """Look up a phone number, email, staff code, name, web address, domain or bank
    account.
    ---
    get:
      tags: [lookup]
      summary: Is this a Centre staff member, an official channel, or a reported impostor?
      description: >-
        Phones are normalised (0912 345 678, +84 912 345 678 and 84912345678 are one
        number), emails case-folded, names matched without diacritics, staff codes
        case-insensitive. A name lists every namesake: call back only on the official
        number shown.
      parameters:
        - name: q
          in: query
          required: true
          schema: {type: string, minLength: 1, maxLength: 300}
        - name: lang
          in: query
          required: false
          schema: {type: string, enum: [vi, en]}
      responses:
        "200":
          description: The answer (every answer, "unknown" included, is a 200).
          content:
            application/json:
              schema:
                type: object
                required: [answer, headline, message, query, staff, channel, impostor, warnings,
                           official_contacts, checked_at]
                properties:
                  answer: {type: string, enum: [official_staff, official_channel, reported_impostor, unknown]}
                  headline: {type: string}
                  message: {type: string}
                  query:
                    type: object
                    required: [text, kind, normalized]
                    properties:
                      text: {type: string}
                      kind: {type: string, enum: [phone, email, staff_code, name, url, domain, account]}
                      normalized: {type: string}
                  staff:
                    type: array
                    items: {$ref: "#/components/schemas/StaffCard"}
                  channel:
                    oneOf:
                      - {$ref: "#/components/schemas/Channel"}
                      - {type: "null"}
                  impostor:
                    oneOf:
                      - type: object
                        required: [count, first_seen, last_seen]
                        properties:
                          count: {type: integer, minimum: 1}
                          first_seen: {type: string, format: date-time}
                          last_seen: {type: string, format: date-time}
                      - {type: "null"}
                  warnings:
                    type: array
                    items:
                      type: object
                      required: [code, message]
                      properties:
                        code: {type: string, enum: [namesakes, staff_suspended, lookalike_domain,
                                                    uses_centre_name, also_reported]}
                        message: {type: string}
                        resembles: {type: string}
                  official_contacts:
                    type: array
                    items: {$ref: "#/components/schemas/Channel"}
                  checked_at: {type: string, format: date-time}
        "400":
          description: Empty, too long, or not something to look up.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "429":
          description: Too many requests from this address.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY:
        raise ValidationError(f"the search is longer than {MAX_QUERY} characters", field="q")
    return jsonify(lookup_json(lookup(db(), q, now=now())))


@bp.post("/api/v1/live-code")
@limiter.limit(LIVE_CODE_LIMIT)
def api_live_code() -> Response:
    """Check the live code a caller reads from their authenticator app.
    ---
    post:
      tags: [live code]
      summary: Check a staff member's current 6-digit live code
      description: >-
        Codes are accepted once, with one 30-second step of drift. Five wrong codes
        within 15 minutes lock the staff code for everyone until 15 minutes after the
        last one; "locked" says until when. Anyone can cause a lock: call back on the
        official number instead.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [staff_code, code]
              properties:
                staff_code: {type: string, minLength: 1, maxLength: 64}
                code: {type: string, minLength: 1, maxLength: 16, pattern: "^[0-9 ]+$"}
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [staff_code, code]
              properties:
                staff_code: {type: string, minLength: 1, maxLength: 64}
                code: {type: string, minLength: 1, maxLength: 16}
      responses:
        "200":
          description: The answer (every answer is a 200).
          content:
            application/json:
              schema:
                type: object
                required: [answer, headline, message, staff_code, locked_until, staff, official_contacts,
                           checked_at]
                properties:
                  answer: {type: string, enum: [valid, invalid, locked, unknown_staff]}
                  headline: {type: string}
                  message: {type: string}
                  staff_code: {type: string}
                  locked_until: {type: [string, "null"], format: date-time}
                  staff:
                    oneOf:
                      - {$ref: "#/components/schemas/StaffCard"}
                      - {type: "null"}
                  official_contacts:
                    type: array
                    items: {$ref: "#/components/schemas/Channel"}
                    description: >-
                      The Centre's channels to call back on, given whenever the answer gives
                      none of the person's own contacts (every answer but valid).
                  checked_at: {type: string, format: date-time}
        "400":
          description: >-
            A missing or malformed staff code or live code, or a JSON body that is not a
            JSON object (invalid_json) or is nested too deep (json_too_deep).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "413":
          description: A JSON body over 64 KiB.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "429":
          description: Too many requests from this address.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    return jsonify(_check_live_code()[1])


@bp.post("/api/v1/verify/image")
@limiter.limit(IMAGE_LIMIT)
def api_verify_image() -> Response:
    """Verify the credential in a photo of a card.
    ---
    post:
      tags: [verification]
      summary: Decode the QR code in a card photo and verify it
      description: >-
        A JPEG, PNG or WebP photo of at most 5 MB; scaled, slightly rotated or taken at
        an angle is fine. The answer is the same as GET /api/v1/verify.
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [image]
              properties:
                image: {type: string, format: binary}
                agency: {type: string, maxLength: 200}
      responses:
        "200":
          description: The verdict on the decoded credential.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/VerifyAnswer"}
        "400":
          description: No photo sent, or a damaged one (truncated_image).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "413":
          description: Over 5 MB or over 16.8 megapixels (too_large), refused before any pixel is decoded.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "415":
          description: Not a JPEG, PNG or WebP image (not_an_image).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "422":
          description: >-
            No QR code found in the photo (no_qr_code), or the photo could not be read
            within the decoder's CPU budget (too_complex).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "429":
          description: Too many requests from this address.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "503":
          description: Every photo decoder of this server is busy (busy); try again after Retry-After seconds.
          headers:
            Retry-After:
              schema: {type: integer}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    return jsonify(result_json(_verify_image(_uploaded_image())))


@bp.get("/api/v1/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI document of this API, generated from the views' docstrings.
    ---
    get:
      tags: [meta]
      summary: This OpenAPI 3.1 document
      responses:
        "200":
          description: The document.
          content:
            application/json:
              schema: {type: object, required: [openapi, info, paths]}
    """
    resp = jsonify(openapi.document(current_app))
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


for _view in (api_lookup, api_live_code, api_verify_image):
    csrf.exempt(_view)  # public JSON API: no session or cookie to protect
