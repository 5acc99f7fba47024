"""The public warnings: the list (``/warnings``, paginated, newest first), one
warning, and the Atom feed. Readable without JavaScript at phone width; the feed
answers ``If-None-Match`` with 304."""

from __future__ import annotations

import hashlib

from flask import Blueprint, make_response, render_template, request
from werkzeug.wrappers import Response

from registry.platform.config import base_url
from registry.platform.db import db
from registry.platform.forms import Page, page
from registry.platform.web import select_locale
from verify.warnings import service
from verify.warnings.feed import FEED_ENTRIES, atom_feed
from verify.warnings.words import template_words

bp = Blueprint("warnings", __name__)
bp.context_processor(template_words)
# agencies' systems poll the feed: they must ask every time, and the ETag makes it cheap
FEED_CACHE = "no-cache"


@bp.get("/warnings")
def warning_list() -> str:
    """Published warnings about impostors, newest first.
    ---
    get:
      tags: [warnings]
      summary: The public warnings, newest first (HTML)
      parameters:
        - name: page
          in: query
          required: false
          schema: {type: integer, minimum: 1}
        - lang  # components.parameters
      responses:
        "200": {description: A page of warnings, content: {text/html: {}}}
    """
    session = db()
    shown = Page(page().number, service.PAGE_SIZE)
    total = service.count_published(session)
    warnings = service.published(session, limit=shown.size, offset=shown.offset)
    return render_template("warnings/list.html", warnings=warnings, **shown.shown(total))


@bp.get("/warnings/<int(min=1, max=2147483647):warning_id>")
def warning_detail(warning_id: int) -> str:
    """One warning.
    ---
    get:
      tags: [warnings]
      summary: One public warning (HTML)
      parameters:
        - name: warning_id
          in: path
          required: true
          schema: {type: integer}
        - lang  # components.parameters
      responses:
        "200": {description: The warning, content: {text/html: {}}}
        "404": {description: No such warning}
        "410": {description: The Centre has withdrawn it}
    """
    warning = service.get_public(db(), warning_id)
    return render_template("warnings/detail.html", warning=warning)


@bp.get("/warnings.atom")
def warning_feed() -> Response:
    """The warnings as an Atom feed, with an ETag.
    ---
    get:
      tags: [warnings]
      summary: The public warnings as an Atom feed (RFC 4287), newest first
      parameters:
        - lang  # components.parameters
        - name: If-None-Match
          in: header
          required: false
          schema: {type: string}
      responses:
        "200":
          description: The feed
          content:
            application/atom+xml: {schema: {type: string}}
        "304": {$ref: "#/components/responses/NotModified"}
    """
    session = db()
    body = atom_feed(
        service.published(session, limit=FEED_ENTRIES),
        base=base_url(),
        updated=service.last_change(session),
        lang=select_locale(),
    )
    resp = make_response(body)
    resp.content_type = "application/atom+xml; charset=utf-8"
    resp.set_etag(hashlib.sha256(body).hexdigest()[:32])
    resp.headers["Cache-Control"] = FEED_CACHE
    return resp.make_conditional(request)
