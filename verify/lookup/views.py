"""The agency's side of the public site: the home page (search box, live-code check,
card-photo upload, how-to) with the lookup's answer, and the JSON API of the lookup
and the live-code check.

Every answer works without JavaScript: the page forms post to views here that render
the same page with the answer. Views parse and bound the input, call a service,
commit what the service wrote (live-code failures and used steps), render.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from keys.errors import Invalid
from registry.alerts.sending import send_mail_soon
from registry.livecode import service as livecode
from registry.platform.clock import now
from registry.platform.config import master_key
from registry.platform.db import db
from registry.platform.forms import json_object, text_value
from registry.platform.web import csrf, limiter
from registry.queries import official_contacts
from verify.core.callback import needs_centre_contacts
from verify.errors import ValidationError
from verify.lookup.answers import live_code_json, lookup_json
from verify.lookup.service import MAX_QUERY, lookup

bp = Blueprint("public", __name__)

# Per client address. A lookup is cheap and an officer may try several spellings;
# a live-code check guards a secret, so fewer.
LOOKUP_LIMIT = "60 per minute; 600 per hour"
LIVE_CODE_LIMIT = "10 per minute; 60 per hour"
MAX_STAFF_CODE_INPUT = 64
MAX_LIVE_CODE_INPUT = 16  # six digits, spaces allowed


def _live_code_input() -> tuple[str, str]:
    payload = json_object()
    if payload is not None:
        staff_code, code = payload.get("staff_code"), payload.get("code")
    else:
        staff_code, code = request.form.get("staff_code"), request.form.get("code")
    staff_code = text_value(staff_code, MAX_STAFF_CODE_INPUT, "staff_code")
    code = text_value(code, MAX_LIVE_CODE_INPUT, "code")
    if not staff_code.strip():
        raise ValidationError("staff_code is required", field="staff_code")
    if not code.strip():
        raise ValidationError("code is required", field="code")
    return staff_code, code


def _check_live_code() -> tuple[livecode.LiveCodeResult, dict[str, Any]]:
    """The live-code answer and its JSON, with the Centre's official contacts
    whenever it gives none of the person's own (verify.core.callback)."""
    staff_code, code = _live_code_input()
    session = db()
    result = livecode.check_code(session, master_key(), staff_code, code, at=now())
    session.commit()  # the used step or the failure, whatever the answer
    if result.answer is livecode.LiveCodeAnswer.INVALID:
        send_mail_soon()  # the staff member learns of the wrong code
    valid = result.answer is livecode.LiveCodeAnswer.VALID
    contacts = official_contacts(session) if needs_centre_contacts(result.staff, valid=valid) else ()
    return result, live_code_json(result, contacts)


def home_page(status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("q", "")
    context.setdefault("max_query", MAX_QUERY)
    return render_template("public/home.html", **context), status


@bp.get("/")
@limiter.limit(LOOKUP_LIMIT, exempt_when=lambda: not request.args.get("q"))
def home() -> tuple[str, int]:
    """The home page; with ``?q=`` it shows the lookup's answer."""
    q = request.args.get("q", "")
    if not q.strip():
        return home_page()
    if len(q) > MAX_QUERY:
        return home_page(400, q=q[:MAX_QUERY], lookup_error=_("The search is too long."))
    try:
        result = lookup(db(), q, now=now())
    except ValidationError:
        return home_page(400, q=q, lookup_error=_("Type a phone number, an email, a staff code or a full name."))
    return home_page(q=q, lookup=result, lookup_data=lookup_json(result))


@bp.post("/live-code")
@limiter.limit(LIVE_CODE_LIMIT)
def live_code_form() -> tuple[str, int]:
    """The page's live-code form (works without JavaScript)."""
    staff_code = request.form.get("staff_code", "")[:MAX_STAFF_CODE_INPUT]
    try:
        result, data = _check_live_code()
    except Invalid as exc:
        message = (
            _("Type the six digits the caller reads from their app.")
            if exc.field == "code"
            else _("Type the staff code printed on the card, for example TTTT-001.")
        )
        return home_page(400, live_staff_code=staff_code, live_error=message)
    return home_page(live_staff_code=staff_code, live=result, live_data=data)


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
        - lang  # components.parameters
      responses:
        "200":
          description: The answer (every answer, "unknown" included, is a 200).
          content:
            application/json:
              schema:
                type: object
                required: [answer, headline, message, query, staff, channel, impostor, warnings,
                           official_contacts, public_warnings, checked_at]
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
                  public_warnings:
                    type: array
                    description: The Centre's published warnings naming what was typed, newest first.
                    items:
                      type: object
                      required: [id, url, published_at]
                      properties:
                        id: {type: integer}
                        url: {type: string, format: uri}
                        published_at: {type: string, format: date-time}
                  checked_at: {type: string, format: date-time}
        "400":
          $ref: "#/components/responses/Error"
          description: Empty, too long, or not something to look up.
        "429": {$ref: "#/components/responses/TooManyRequests"}
    """
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY:
        raise ValidationError("the search is longer than {max} characters", field="q", params={"max": MAX_QUERY})
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
              required: [staff_code, code]
              type: object
              properties:
                staff_code: &staff_code {type: string, minLength: 1, maxLength: 64}
                code: {type: string, minLength: 1, maxLength: 16, pattern: "^[0-9 ]+$"}
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [staff_code, code]
              properties: {staff_code: *staff_code, code: {type: string, minLength: 1, maxLength: 16}}
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
          $ref: "#/components/responses/Error"
          description: >-
            A missing or malformed staff code or live code, or a JSON body that is not a
            JSON object (invalid_json) or is nested too deep (json_too_deep).
        "413":
          $ref: "#/components/responses/Error"
          description: A JSON body over 64 KiB.
        "429": {$ref: "#/components/responses/TooManyRequests"}
    """
    return jsonify(_check_live_code()[1])


for _view in (api_lookup, api_live_code):
    csrf.exempt(_view)  # public JSON API: no session or cookie to protect
