"""The public report form ``/report``, its printable confirmation page and the JSON
API ``POST /api/v1/reports``. Views parse, call ``verify.reports.intake``, commit,
render; after the commit, a configured webhook is notified from a background thread
so the officer's answer never waits for it."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from keys.errors import Message
from registry.alerts.sending import send_mail_soon
from registry.outbox import delivery
from registry.platform.clock import clock_of, now
from registry.platform.config import base_url
from registry.platform.db import db, sessions
from registry.platform.forms import json_object
from registry.platform.i18n import translate
from registry.platform.web import csrf, limiter
from verify.errors import EvidenceError, ReportInputError
from verify.reports import evidence, quota
from verify.reports.evidence import Upload
from verify.reports.intake import find_report, report_json, submit_report
from verify.reports.models import Report, ReportChannel
from verify.reports.validation import CHANNEL_LABELS, HONEYPOT, LABELS, LONG_FIELDS, SHORT_FIELDS, validate_report

bp = Blueprint("reports_views", __name__)

MAX_FILES_PART = evidence.MAX_FILES
# three full evidence files plus every text field with multipart overhead
MAX_REPORT_REQUEST = evidence.MAX_FILES * evidence.MAX_FILE_BYTES + 256 * 1024
MAX_JSON_REQUEST = 64 * 1024  # every text field at its maximum, in UTF-8, fits
MAX_FORM_PARTS = 40  # the form has 20 fields; more parts is not our form
# An agency sends a handful of reports a day; an office behind one address still fits.
REPORT_RATE_LIMIT = "10 per minute;60 per hour"
CONFIRMATION_MAX_AGE_S = 7 * 24 * 3600  # the officer may reopen the printable page for a week
CONFIRMATION_SALT = "chinhdanh.report.confirmation"
PREFILL = ("claimed_name", "staff_code", "phone", "email", "channel", "claimed_title", "claimed_unit", "social_link")


def _bound_request(limit: int) -> None:
    request.max_content_length = limit
    request.max_form_parts = MAX_FORM_PARTS


@bp.url_value_preprocessor
def _report_form_limits(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The report form's body and part limits, set before anything reads the body:
    URL value preprocessors run before every before_request hook, and CSRFProtect
    parses the form in one (with the app's looser limits, were these not set)."""
    if endpoint == f"{bp.name}.report_form" and request.method == "POST":
        _bound_request(MAX_REPORT_REQUEST)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRMATION_SALT)


def _uploads() -> list[Upload]:
    files = request.files.getlist("evidence")
    if len(files) > MAX_FILES_PART:
        # refuse before reading them: check_files would say the same after reading
        return [Upload(name=f.filename or "", data=b"") for f in files]
    return [Upload(name=f.filename or "", data=f.read(evidence.MAX_FILE_BYTES + 1)) for f in files]


def _store(raw: Any, uploads: list[Upload], *, source: str, strict: bool) -> Report:
    """Validate everything, then write it all in one transaction."""
    moment = now()
    data = validate_report(raw, now=moment, language=str(get_locale() or "vi"), strict=strict)
    checked = evidence.check_files(uploads)
    limit = quota.from_config(current_app.config, request.remote_addr or "")
    session = db()
    try:
        report = submit_report(session, data, checked, source=source, now=moment, quota=limit)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    _notify()
    send_mail_soon()  # alerts to the staff members the report names
    return report


def _notify() -> None:
    url = current_app.config.get("WEBHOOK_URL")
    secret = current_app.config.get("WEBHOOK_SECRET")
    if not url:
        return
    if not secret:
        current_app.logger.warning("WEBHOOK_URL is set without WEBHOOK_SECRET: notifications stay in the outbox")
        return
    # the thread runs outside the request: it is handed the app's clock itself
    clock = clock_of(current_app._get_current_object())  # type: ignore[attr-defined]
    delivery.deliver_in_background(sessions(), url=str(url), secret=str(secret), clock=clock)


def _form_context(values: dict[str, Any], errors: dict[str, Message] | None = None) -> dict[str, Any]:
    return {
        "values": values,
        "errors": {name: translate(m.id, m.params) for name, m in (errors or {}).items()},
        "labels": {name: _(label) for name, label in LABELS.items()},
        "channels": [(c.value, _(CHANNEL_LABELS[c])) for c in ReportChannel],
        "limits": {**{k: v[0] for k, v in SHORT_FIELDS.items()}, **{k: v[0] for k, v in LONG_FIELDS.items()}},
        "required": {k for k, v in {**SHORT_FIELDS, **LONG_FIELDS}.items() if v[1]} | {"channel"},
        "honeypot": HONEYPOT,
        "max_files": evidence.MAX_FILES,
        "max_mb": evidence.MAX_FILE_BYTES // (1024 * 1024),
    }


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(REPORT_RATE_LIMIT, methods=["POST"])
def report_form() -> Response | str:
    if request.method == "GET":
        values = {name: request.args.get(name, "")[: SHORT_FIELDS.get(name, (64, False))[0]] for name in PREFILL}
        return render_template("reports/form.html", **_form_context(values))
    _bound_request(MAX_REPORT_REQUEST)
    form = request.form
    raw = {name: form.get(name, "") for name in form if name not in ("csrf_token", "lang")}
    try:
        report = _store(raw, _uploads(), source="form", strict=False)
    except ReportInputError as exc:
        # the one place a domain error is caught: the form comes back with every message
        resp = make_response(render_template("reports/form.html", **_form_context(raw, exc.errors)), exc.status)
        return resp
    except EvidenceError as exc:
        context = _form_context(raw, {exc.field or "evidence": Message(exc.template, exc.params)})
        context["files_over_quota"] = exc.code in quota.CODES  # what was typed is kept: send it without files
        resp = make_response(render_template("reports/form.html", **context), exc.status)
        if exc.retry_after:
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    key = _serializer().dumps(report.reference)
    return redirect(
        url_for("reports_views.confirmation", reference=report.reference, k=key, lang=request.args.get("lang")), 303
    )


@bp.get("/report/<reference>")
def confirmation(reference: str) -> str:
    """The printable receipt. Reachable only with the signed key given at submission:
    references are sequential, and a report's content belongs to its reporter."""
    key = request.args.get("k", "")
    if len(reference) > 16 or len(key) > 200:
        abort(404)
    try:
        signed = _serializer().loads(key, max_age=CONFIRMATION_MAX_AGE_S)
    except BadSignature:
        abort(404)
    if signed != reference:
        abort(404)
    report = find_report(db(), reference)
    if report is None:
        abort(404)
    return render_template(
        "reports/confirmation.html",
        report=report,
        labels={name: _(label) for name, label in LABELS.items()},
        channel_labels={c: _(label) for c, label in CHANNEL_LABELS.items()},
    )


@bp.post("/api/v1/reports")
@limiter.limit(REPORT_RATE_LIMIT)
def api_create_report() -> Response:
    """Report an impersonation.

    JSON, or multipart/form-data with the same fields and up to 3 files named
    ``evidence``. Answers 201 with the reference.
    ---
    post:
      summary: Report an impersonation
      tags: [reports]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [channel, request_text, reporter_agency, reporter_contact]
              properties:
                channel: {type: string, enum: [phone, email, zalo, facebook, letter, in_person, other]}
                claimed_name: {type: string, maxLength: 200}
                claimed_title: {type: string, maxLength: 200}
                claimed_unit: {type: string, maxLength: 200}
                staff_code: {type: string, maxLength: 64}
                phone: {type: string, maxLength: 32, description: any common written form}
                email: {type: string, maxLength: 254}
                social_link: {type: string, maxLength: 500}
                bank_account: {type: string, maxLength: 100, description: the number, bank name allowed}
                request_text: {type: string, maxLength: 4000, description: what was asked}
                amount_vnd: {type: integer, minimum: 0, maximum: 10000000000000}
                occurred_at: {type: string, description: "YYYY-MM-DD, YYYY-MM-DDTHH:MM (Viet Nam time) or ISO 8601"}
                evidence_text: {type: string, maxLength: 5000}
                reporter_agency: {type: string, maxLength: 200}
                reporter_contact: {type: string, maxLength: 200}
                publish_agency:
                  type: boolean
                  description: >-
                    The reporter agrees that a public warning made of this report may name
                    their agency (never their contact); false when absent.
                website: {type: string, maxLength: 0, description: honeypot, leave empty}
          multipart/form-data:
            schema:
              type: object
              required: [channel, request_text, reporter_agency, reporter_contact]
              properties:
                channel: {type: string}
                request_text: {type: string}
                reporter_agency: {type: string}
                reporter_contact: {type: string}
                publish_agency: {type: string, enum: ["", "0", "1", "on", "off", "true", "false", "yes", "no"]}
                evidence:
                  type: array
                  maxItems: 3
                  items: {type: string, format: binary, description: "JPEG, PNG, WebP or PDF, at most 5 MB"}
      responses:
        "201":
          description: Stored; the reference to quote
          content:
            application/json:
              schema:
                type: object
                required: [reference, status, created_at]
                properties:
                  reference: {type: string, pattern: "^BC-[0-9]{4}-[0-9]{6}$"}
                  status: {type: string, enum: [new]}
                  created_at: {type: string, format: date-time}
                  files: {type: integer}
        "400": {description: "A field is invalid, or the body is no JSON object: error.code, .field, .message"}
        "413": {description: "A file or the request is too large, or the evidence storage is full
          (evidence_storage_full: send the report without files)"}
        "415": {description: "A file is not JPEG, PNG, WebP or PDF, or its name contradicts its content"}
        "429": {description: "Too many reports from this address, or its daily evidence quota is used up
          (evidence_quota_exceeded, with Retry-After: send the report without files)"}
    """
    payload = json_object(max_bytes=MAX_JSON_REQUEST)
    if payload is not None:
        report = _store(payload, [], source="api", strict=True)
    else:
        _bound_request(MAX_REPORT_REQUEST)
        form: MultiDict[str, str] = request.form
        raw = {name: form.get(name, "") for name in form}
        report = _store(raw, _uploads(), source="api", strict=True)
    body = {**report_json(report), "files": len(report.files), "url": f"{base_url()}/report"}
    resp = jsonify(body)
    resp.status_code = 201
    return resp


csrf.exempt(api_create_report)  # a public JSON API with no session to protect
