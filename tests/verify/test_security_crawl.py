"""Acceptance 5: a crawler over every registered route of every blueprint, as every
role and without a session, with sample data whose names, titles, labels and report
texts are markup. Every response carries the security headers; no HTML response
contains that markup unescaped, nor inline scripts, styles or event handlers (the
CSP forbids them, so they would break the page anyway)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers_admin import XSS, XSS_IMG, cheap_argon2, client_as, sample_data, url_of  # noqa: F401 - fixture

from registry.accounts.models import AdminRole

pytestmark = pytest.mark.usefixtures("cheap_argon2")

HOSTILE_NAME = f"Nguyễn {XSS} Đức"
RAW_MARKUP = (XSS, XSS_IMG, "<b>bold</b>")
INLINE_PATTERNS = {
    "inline style attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
    "style element": re.compile(r"<style[\s>]", re.I),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "javascript: URL": re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.I),
}
TAG = re.compile(r"<[a-z][^>]*>", re.I)
QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
EVENT_ATTR = re.compile(r"\son[a-z]+\s*=", re.I)
# query strings that echo input back, markup included
HOSTILE_QUERIES = {
    "/": [f"?q={XSS}", f"?q={XSS_IMG}&lang=en"],
    "/admin/staff": [f"?q={XSS}&status={XSS_IMG}"],
    "/admin/audit": [f"?actor={XSS}&action={XSS_IMG}"],
    "/admin/reports": [f"?status={XSS}"],
    "/admin/assignments": [f"?staff={XSS}"],
    "/admin/login": [f"?next={XSS}"],
    "/report": [f"?claimed_name={XSS}&staff_code={XSS_IMG}&phone={XSS}"],
    "/api/v1/lookup": [f"?q={XSS}"],
}


def check_headers(path: str, resp: Any) -> list[str]:
    problems = []
    csp = resp.headers.get("Content-Security-Policy", "")
    if not csp:
        problems.append(f"{path}: no Content-Security-Policy")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"{path}: CSP allows unsafe-inline/eval: {csp}")
    if "frame-ancestors 'none'" not in csp:
        problems.append(f"{path}: CSP lacks frame-ancestors 'none'")
    if resp.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{path}: no X-Content-Type-Options: nosniff")
    if not resp.headers.get("Referrer-Policy"):
        problems.append(f"{path}: no Referrer-Policy")
    if resp.status_code >= 500:
        problems.append(f"{path}: status {resp.status_code}")
    return problems


def check_body(path: str, resp: Any) -> list[str]:
    if resp.mimetype not in ("text/html", "image/svg+xml"):
        return []
    body = resp.get_data(as_text=True)
    problems = [f"{path}: unescaped {m!r}" for m in RAW_MARKUP if m in body]
    for what, pattern in INLINE_PATTERNS.items():
        found = pattern.search(body)
        if found:
            problems.append(f"{path}: {what}: {found.group(0)[:80]!r}")
    for tag in TAG.findall(body):
        if EVENT_ATTR.search(QUOTED.sub('""', tag)):  # outside attribute values, not inside them
            problems.append(f"{path}: event handler attribute: {tag[:80]!r}")
    return problems


def urls_for(app: Any, sample: Any, rule: Any) -> list[str]:
    url = url_of(rule, sample.route_values())
    return [url] + [url + q for q in HOSTILE_QUERIES.get(rule.rule, [])]


@pytest.mark.slow  # seconds (--durations): left out by ./dev test --fast
def test_every_route_as_every_role(app, session, master):
    sample = sample_data(app, session, master, name=HOSTILE_NAME)
    from registry.staff.service import add_staff, validate_staff

    add_staff(
        session,
        validate_staff(code="TTTT-XSS", name=XSS_IMG, title=XSS, unit="<b>bold</b>", phone="0903 111 222"),
        actor="test",
        now=sample.admin.created_at,
    )
    session.commit()
    from helpers_admin import make_report

    report = make_report(app, session, name=XSS_IMG, text=f"{XSS}\n<b>bold</b> {XSS_IMG}")
    from verify.reports.models import ReportStatus
    from verify.reports.triage import triage
    from verify.warnings.service import publish

    at = sample.admin.created_at
    triage(session, report.reference, ReportStatus.REVIEWING, note=None, actor="test", now=at)
    triage(session, report.reference, ReportStatus.CONFIRMED, note=XSS, actor="test", now=at)
    publish(session, report.reference, text=f"{XSS} {XSS_IMG}", actor="test", now=at)  # warning 1
    session.commit()

    problems: list[str] = []
    escaped_seen = 0
    requests = 0
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    for role in (None, *AdminRole):
        for rule in rules:
            admin_route = rule.rule.startswith("/admin")
            if role is not None and not admin_route:
                continue  # the public side is the same for everyone; crawled without a session
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for url in urls_for(app, sample, rule):
                    session.expire_all()
                    client = client_as(app, session, master, role)
                    # an empty post: every refusal must carry the headers too
                    resp = client.get(url) if method == "GET" else client.open(url, method=method, data={})
                    requests += 1
                    who = role.value if role else "anonymous"
                    where = f"{method} {url} ({who}) -> {resp.status_code}"
                    problems += check_headers(where, resp)
                    problems += check_body(where, resp)
                    if resp.mimetype == "text/html" and "&lt;script&gt;alert(" in resp.get_data(as_text=True):
                        escaped_seen += 1
    print(f"crawled {requests} responses; hostile markup shown escaped on {escaped_seen} pages")
    assert not problems, "\n".join(problems)
    assert requests > 150
    # the hostile names really were shown (escaped), on many pages
    assert escaped_seen >= 20, escaped_seen


@pytest.mark.parametrize("app", [{"HSTS_SECONDS": 31536000}], indirect=True)
def test_hsts_when_configured(client):
    for path in ("/", "/admin/login", "/nothing-here", "/static/admin.css"):
        resp = client.get(path)
        assert resp.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", path


def test_evidence_files_are_sandboxed(app, session, master):
    sample = sample_data(app, session, master)
    client = client_as(app, session, master, AdminRole.REVIEWER)
    resp = client.get(f"/admin/reports/{sample.report_ref}/files/{sample.file_id}")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    csp = resp.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (f"<p>{XSS}</p>", {}, "unescaped"),
        ('<p style="color:red">x</p>', {}, "inline style attribute"),
        ("<style>p{}</style>", {}, "style element"),
        ("<script>alert(1)</script>", {}, "inline script"),
        ('<img src="x.png" onerror="alert(1)">', {}, "event handler attribute"),
        ('<a href="javascript:alert(1)">x</a>', {}, "javascript: URL"),
        ("<p>ok</p>", {"Content-Security-Policy": None}, "no Content-Security-Policy"),
        ("<p>ok</p>", {"Content-Security-Policy": "default-src 'self' 'unsafe-inline'"}, "unsafe-inline"),
        ("<p>ok</p>", {"X-Content-Type-Options": None}, "nosniff"),
        ("<p>ok</p>", {"Referrer-Policy": None}, "Referrer-Policy"),
    ],
)
def test_the_checks_catch_what_they_look_for(body, headers, expected):
    """The crawler's own checks, on hand-made bad responses: they can fail."""
    from flask import Response

    resp = Response(body, mimetype="text/html")
    resp.headers.update(
        {
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
    )
    for name, value in headers.items():
        if value is None:
            del resp.headers[name]
        else:
            resp.headers[name] = value
    problems = check_headers("/x", resp) + check_body("/x", resp)
    assert any(expected in p for p in problems), problems


def test_the_checks_pass_escaped_markup():
    from flask import Response
    from markupsafe import escape

    resp = Response(f'<input value="{escape(XSS_IMG)}"><p>{escape(XSS)}</p><script src="/static/x.js"></script>')
    resp.headers.update(
        {
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
    )
    assert check_headers("/x", resp) + check_body("/x", resp) == []
