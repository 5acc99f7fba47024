"""Public documents for the offline verifier client: the signed roster (with an ETag
for conditional requests) and the root key's public JWK. Views parse, call, render."""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, request
from werkzeug.wrappers import Response

from keys.errors import NoActiveKeyError
from registry.web import base_url, db, master_key, now
from verify import roster

bp = Blueprint("roster_views", __name__)


def _unavailable(code: str, message: str) -> Response:
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = 503
    return resp


@bp.get(roster.ROSTER_PATH)
def roster_document() -> Response:
    """The public roster, signed.
    ---
    get:
      summary: The public staff roster as a signed document (typ roster+jwt)
      description: >
        A compact JWS signed by the active signing key (verify it with the key set or the
        JWKS). Claims - iss, sub, iat, exp; staff, a list of objects with code, name,
        title, unit, status (active, suspended, departed) and, only for active staff,
        their official phone (E.164) and email; and official_contacts, the Centre's
        official channels to call back on (objects with kind - phone, email or url -,
        value and label), phones first, to show in place of a person's own contacts
        beside any answer but valid for an active person. The offline verifier client
        caches it. Conditional requests with If-None-Match answer 304.
      tags: [keys]
      parameters:
        - in: header
          name: If-None-Match
          required: false
          schema: {type: string}
      responses:
        "200":
          description: The roster token.
          headers:
            ETag: {schema: {type: string}}
            Cache-Control: {schema: {type: string}}
          content:
            application/jwt: {}
        "304":
          description: Unchanged since the ETag given.
        "503":
          description: No active signing key yet.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    session = db()
    try:
        token = roster.roster_token(session, master_key(), issuer=base_url(), now=now())
    except NoActiveKeyError as exc:
        return _unavailable("no_signing_key", str(exc))
    etag = roster.etag_for(token)
    if request.if_none_match.contains(etag):
        resp = make_response("", 304)
    else:
        resp = make_response(token)
        resp.mimetype = "application/jwt"
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={roster.ROSTER_CACHE_SECONDS}, must-revalidate"
    return resp


@bp.get(roster.ROOT_KEY_PATH)
def root_key() -> Response:
    """The root key's public JWK.
    ---
    get:
      summary: The public key of the root that signs the key set
      description: >
        The Ed25519 public JWK of the active root key; its kid is its RFC 7638 thumbprint,
        the value the Board prints in its official letters. A verifier must accept it only
        if that thumbprint is the one it pins.
      tags: [keys]
      responses:
        "200":
          description: The root public key.
          content:
            application/json:
              schema:
                type: object
                required: [kty, crv, x, kid, use, alg]
                properties:
                  kty: {type: string, enum: [OKP]}
                  crv: {type: string, enum: [Ed25519]}
                  x: {type: string}
                  kid: {type: string}
                  use: {type: string, enum: [sig]}
                  alg: {type: string, enum: [EdDSA]}
        "503":
          description: No root key yet.
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
    """
    try:
        jwk = roster.root_public_jwk(db())
    except NoActiveKeyError as exc:
        return _unavailable("no_root_key", str(exc))
    resp = jsonify(jwk)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp
