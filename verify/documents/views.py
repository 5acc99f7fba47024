"""The public documents every verifier reads: the JWKS, the root-signed key set (as
the operator's ``keys root sign`` stored it: no worker holds the root), the status
lists (with ETags), the signed roster and the root key's public JWK. A missing key
or key set is the service's ``no_signing_key`` / ``no_root_key`` / ``no_keyset``
(503), from the error table."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Blueprint, jsonify, make_response, request
from werkzeug.wrappers import Response

from keys import service as key_service
from keys.contract import JWKS_PATH, KEYSET_PATH, ROOT_KEY_PATH, ROSTER_PATH, STATUS_LIST_PATH
from keys.root import served_keyset
from registry.credentials import statuslists
from registry.errors import NotFoundError
from registry.platform.clock import now
from registry.platform.config import base_url, master_key
from registry.platform.db import db
from registry.platform.metrics import CLIENT_DOCUMENTS
from registry.platform.web import public_cache
from verify.documents import roster
from verify.documents.service import STATUS_LIST_MAX_AGE, signed_status_list

bp = Blueprint("documents", __name__)
# the metrics' label of each document an offline client fetches
DOCUMENT_NAMES = {
    "documents.jwks": "jwks",
    "documents.keyset": "keyset",
    "documents.status_list": "status_list",
    "documents.roster_document": "roster",
    "documents.root_key": "root_key",
}


@bp.before_request
def _count_document() -> None:
    CLIENT_DOCUMENTS.labels(DOCUMENT_NAMES.get(request.endpoint or "", "other")).inc()


KEYSET_MAX_AGE = 300  # seconds a cache may keep the key set before revalidating


def _revalidated(etag: str, mimetype: str, max_age: int, body: Callable[[], str]) -> Response:
    """A signed document that verifiers keep and revalidate: 304 to their own ETag,
    else ``body()``; either way the ETag and how long it may be reused."""
    if request.if_none_match.contains(etag):
        resp = make_response("", 304)
    else:
        resp = make_response(body())
        resp.mimetype = mimetype
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={max_age}, must-revalidate"
    return resp


@bp.get(JWKS_PATH)
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
    return public_cache(resp, 300)


@bp.get(KEYSET_PATH)
def keyset() -> Response:
    """The signing keys with their states, signed by the offline root key.
    ---
    get:
      tags: [keys]
      summary: Root-signed key set (a compact JWS), served as `keys root sign` stored it
      description: >
        Claims - iss, iat, exp (the operator chooses the validity, 30 days by default),
        version (one more at each signature) and keys, every signing key with its state.
        The root's private key is offline: the server never signs this document, it
        serves the one the operator signed. A verifier accepts it until exp and refuses
        one older (by version or iat) than the one it holds.
      responses:
        "200":
          description: The key-set token.
          headers:
            ETag: {schema: {type: string}}
          content:
            application/jwt: {}
        "304": {$ref: "#/components/responses/NotModified"}
        "503":
          $ref: "#/components/responses/Error"
          description: No key set signed by the active root yet (no_keyset).
    """
    document = served_keyset(db())
    etag = hashlib.sha256(document.token.encode()).hexdigest()[:32]
    return _revalidated(etag, "application/jwt", KEYSET_MAX_AGE, lambda: document.token)


@bp.get(f"{STATUS_LIST_PATH}<int(max=2147483647):list_id>")  # the column is a 32-bit integer
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
        "304": {$ref: "#/components/responses/NotModified"}
        "404":
          $ref: "#/components/responses/Error"
          description: No such status list.
        "503":
          $ref: "#/components/responses/Error"
          description: No signing key yet.
    """
    session = db()
    version = statuslists.list_version(session, list_id)
    if version is None:
        raise NotFoundError("no such status list")
    etag = hashlib.sha256(f"{list_id}:{version}".encode()).hexdigest()[:32]
    return _revalidated(
        etag,
        "application/statuslist+jwt",
        STATUS_LIST_MAX_AGE // 60,
        lambda: signed_status_list(session, master_key(), list_id, version, issuer=base_url(), now=now()),
    )


@bp.get(ROSTER_PATH)
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
        "304": {$ref: "#/components/responses/NotModified"}
        "503":
          $ref: "#/components/responses/Error"
          description: No active signing key yet.
    """
    token = roster.roster_token(db(), master_key(), issuer=base_url(), now=now())
    return _revalidated(roster.etag_for(token), "application/jwt", roster.ROSTER_CACHE_SECONDS, lambda: token)


@bp.get(ROOT_KEY_PATH)
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
          $ref: "#/components/responses/Error"
          description: No root key yet.
    """
    resp = jsonify(roster.root_public_jwk(db()))
    return public_cache(resp, 3600)
