"""The API's own pages: the OpenAPI document generated from the views, and the
liveness and readiness checks."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from keys.root import keyset_health
from registry.platform.clock import now
from registry.platform.db import db
from registry.platform.errors import DATABASE_RETRY_AFTER_S, DATABASE_UNAVAILABLE, SORRY_NO_DATABASE
from registry.platform.web import public_cache
from verify.api import openapi

bp = Blueprint("api", __name__)


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
    return public_cache(resp, 300)


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
              schema: {type: object, required: [status], properties: {status: {type: string, enum: [ok]}}}
    """
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: the database answers; the body also says how the served key set stands.
    ---
    get:
      tags: [meta]
      summary: Readiness check (the database answers), with the key set's expiry
      description: >
        Ready (200) while the database answers. The body's keyset says when the served
        key set expires, and warnings lists keyset_unsigned, keyset_expired,
        keyset_expiring (within 7 days) or keyset_stale (a key changed since it was
        signed): the operator must run keys root sign; the service still answers.
      responses:
        "200":
          description: Ready.
          content:
            application/json:
              schema:
                type: object
                required: [status, warnings]
                properties:
                  status: {type: string, enum: [ready]}
                  warnings:
                    type: array
                    items:
                      type: string
                      enum: [keyset_unsigned, keyset_expired, keyset_expiring, keyset_stale]
                  keyset:
                    type: [object, "null"]
                    required: [version, expires_at]
                    properties:
                      version: {type: integer}
                      expires_at: {type: string, format: date-time}
        "503":
          $ref: "#/components/responses/Error"
          description: The database does not answer.
    """
    try:
        db().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        current_app.logger.warning("readiness check: database unreachable (%s)", type(exc).__name__)
        # JSON whatever the probe accepts: load balancers read the status, people the message
        resp = jsonify({"error": {"code": DATABASE_UNAVAILABLE, "message": str(SORRY_NO_DATABASE)}})
        resp.status_code = 503
        resp.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
        return resp
    health = keyset_health(db(), now=now())
    warnings = [
        name
        for name, on in (
            ("keyset_unsigned", not health.signed),
            ("keyset_expired", health.expired),
            ("keyset_expiring", health.expiring),
            ("keyset_stale", health.stale),
        )
        if on
    ]
    keyset = (
        {"version": health.version, "expires_at": health.expires_at.isoformat()}
        if health.signed and health.expires_at
        else None
    )
    return jsonify({"status": "ready", "warnings": warnings, "keyset": keyset})
