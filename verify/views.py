"""Public verification endpoints: the verdict page, the verify API, JWKS, the
root-signed key set, status lists, and health checks. Views parse, call a service,
render."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from keys import service as key_service
from keys.errors import NoActiveKeyError
from registry import statuslists
from registry.credentials import ASSIGNMENT_TYP, STAFF_TYP
from registry.errors import ValidationError
from registry.web import base_url, csrf, db, json_object, master_key, now, wants_json
from verify.agency import MAX_AGENCY_INPUT
from verify.answers import result_json
from verify.messages import EXPLANATIONS, HEADLINES, NEVER_DOES
from verify.tokens import ALL_TYPS, Result, verify_on
from verify.verdicts import Verdict

bp = Blueprint("verify", __name__)

MAX_TOKEN_FIELD = 8192  # a token field longer than this is refused before parsing
STATUS_LIST_MAX_AGE = int(statuslists.STATUS_LIST_TTL.total_seconds())


@bp.app_context_processor
def _verdict_texts() -> dict[str, Any]:
    return {"headlines": HEADLINES, "explanations": EXPLANATIONS, "never_does_lines": never_does_lines()}


def never_does_lines() -> list[Any]:
    """From configuration (CENTRE_NEVER_DOES, lines separated by '|'), else the defaults."""
    configured = current_app.config.get("CENTRE_NEVER_DOES")
    if configured:
        return [line.strip() for line in str(configured).split("|") if line.strip()]
    return list(NEVER_DOES)


# ``expect``: what the caller was shown. A token of the other typ then answers
# "malformed" (a verdict, not an error), so a card can't stand in for a letter.
EXPECT_TYPS = {
    "": ALL_TYPS,
    "assignment": frozenset({ASSIGNMENT_TYP}),
    "credential": frozenset({STAFF_TYP}),
}


def service_origin() -> str:
    """PUBLIC_BASE_URL's origin, computed once at start-up (app.py)."""
    return str(current_app.extensions["chinhdanh.own_origin"])


def _verify(token_text: str, agency: str = "", expect: str = "") -> Result:
    """Verify, checking an assignment against the officer's agency when one is given."""
    return verify_on(
        current_app.extensions["chinhdanh.read_engine"],
        token_text,
        issuer=base_url(),
        own_origin=service_origin(),
        now=now(),
        typs=EXPECT_TYPS[expect],
        agency=agency,
    )


def expect_value(value: object) -> str | None:
    """``expect`` as a key of EXPECT_TYPS, or None when it is none of them."""
    if not isinstance(value, str) or value.strip().lower() not in EXPECT_TYPS:
        return None
    return value.strip().lower()


def _expect_param(payload: dict[str, Any] | None) -> str:
    """``expect`` from the query, the form or the JSON body; raise ValidationError."""
    value: object = request.values.get("expect", "")
    if payload is not None and "expect" in payload:
        value = payload["expect"]
    expect = expect_value(value)
    if expect is None:
        raise ValidationError("expect must be assignment or credential", field="expect")
    return expect


def _agency_param(payload: dict[str, Any] | None) -> str:
    value = request.values.get("agency", "")
    if payload is not None and isinstance(payload.get("agency"), str):
        value = payload["agency"]
    return value[:MAX_AGENCY_INPUT]


@bp.get("/v/<token>")
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
        - name: lang
          in: query
          required: false
          schema: {type: string, enum: [vi, en]}
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
    result = _verify(token, _agency_param(payload), _expect_param(payload))
    if wants_json():
        return jsonify(result_json(result))
    body = render_template(
        "verify/verdict.html", result=result, data=result_json(result), ok=result.verdict is Verdict.VALID
    )
    return make_response(body, 200)


@bp.route("/api/v1/verify", methods=["GET", "POST"])
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
      responses: &verify_responses
        "200":
          description: The verdict (every verdict, "malformed" included, is a 200).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/VerifyAnswer"}
        "400":
          description: >-
            An expect other than assignment or credential, or a JSON body that is not a
            JSON object (invalid_json) or is nested too deep (json_too_deep).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "413":
          description: A token far longer than any credential, or a JSON body over 64 KiB.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
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
    return jsonify(result_json(_verify(token, _agency_param(payload), _expect_param(payload))))


csrf.exempt(api_verify)  # a public JSON API with no session to protect


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys able to verify current credentials.
    ---
    get:
      tags: [keys]
      summary: JSON Web Key Set (RFC 7517) of the signing keys
      responses:
        "200":
          description: The key set.
          content:
            application/json:
              schema:
                type: object
                required: [keys]
                properties:
                  keys:
                    type: array
                    items:
                      type: object
                      required: [kty, kid]
                      properties:
                        kty: {type: string}
                        crv: {type: string}
                        x: {type: string}
                        kid: {type: string}
                        alg: {type: string}
                        use: {type: string}
    """
    resp = jsonify(key_service.jwks(db(), now=now()))
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.get("/api/v1/keyset")
def keyset() -> Response:
    """The signing keys with their states, signed by the root key.
    ---
    get:
      tags: [keys]
      summary: Root-signed key set (a compact JWS)
      responses:
        "200":
          description: The key-set token.
          content:
            application/jwt: {}
        "503":
          description: No root key yet.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    try:
        token = key_service.keyset_token(db(), master_key(), issuer=base_url(), now=now())
    except NoActiveKeyError as exc:
        return _plain_error(503, "no_root_key", str(exc))
    db().commit()
    resp = make_response(token)
    resp.mimetype = "application/jwt"
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


def _plain_error(status: int, code: str, message: str) -> Response:
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp


@bp.get("/api/v1/status-lists/<int(max=2147483647):list_id>")  # the column is a 32-bit integer
def status_list(list_id: int) -> Response:
    """A status list token (2 bits per credential: 0 valid, 1 revoked, 2 suspended).
    ---
    get:
      tags: [keys]
      summary: Status list token (IETF OAuth Token Status List), cacheable with ETag
      parameters:
        - name: list_id
          in: path
          required: true
          schema: {type: integer, minimum: 0, maximum: 2147483647}
      responses:
        "200":
          description: The status list token.
          content:
            application/statuslist+jwt: {}
        "304":
          description: Not modified since the ETag given in If-None-Match.
        "404":
          description: No such status list.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
        "503":
          description: No signing key yet.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    session = db()
    version = statuslists.list_version(session, list_id)
    if version is None:
        return _plain_error(404, "not_found", "no such status list")
    etag = hashlib.sha256(f"{list_id}:{version}".encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        resp = make_response("", 304)
    else:
        try:
            token = _signed_status_list(session, list_id, version)
        except NoActiveKeyError as exc:
            return _plain_error(503, "no_signing_key", str(exc))
        resp = make_response(token)
        resp.mimetype = "application/statuslist+jwt"
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={STATUS_LIST_MAX_AGE // 60}, must-revalidate"
    return resp


def _signed_status_list(session: Any, list_id: int, version: int) -> str:
    """The signed list, re-signed only when it changed, the signing key changed, or
    half its cache lifetime passed (so ``exp`` stays well ahead of any cached copy).
    Cached per application, never across databases."""
    cache: dict[tuple[int, int, str], tuple[str, float]] = current_app.extensions.setdefault(
        "chinhdanh.status_list_cache", {}
    )
    key = (list_id, version, key_service.active_key(session).kid)
    moment = now()
    cached = cache.get(key)
    if cached is not None and cached[1] >= moment.timestamp() - STATUS_LIST_MAX_AGE / 2:
        return cached[0]
    row = statuslists.get_list(session, list_id)
    if row is None:
        raise LookupError(list_id)
    token = statuslists.status_list_token(session, master_key(), row, base_url=base_url(), now=moment)
    session.commit()  # the signing key's last_expiry moved
    cache.clear()
    cache[key] = (token, moment.timestamp())
    return token


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
          description: No such staff member, no photo, or a departed person (whose photo is never served).
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    from registry.queries import staff_photo as load_photo

    if len(code) > 32:
        abort(404)
    found = load_photo(db(), code)
    if found is None:
        abort(404)
    resp = make_response(found[0])
    resp.mimetype = found[1]
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness.
    ---
    get:
      tags: [meta]
      summary: Liveness check
      responses:
        "200":
          description: The process answers.
          content:
            application/json:
              schema:
                type: object
                required: [status]
                properties:
                  status: {type: string, enum: [ok]}
    """
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: the database answers.
    ---
    get:
      tags: [meta]
      summary: Readiness check (the database answers)
      responses:
        "200":
          description: Ready.
          content:
            application/json:
              schema:
                type: object
                required: [status]
                properties:
                  status: {type: string, enum: [ready]}
        "503":
          description: The database does not answer.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.warning("readiness check: database unreachable")
        return _plain_error(503, "database_unavailable", "the database does not answer")
    return jsonify({"status": "ready"})
