"""The baseline for bench/verify_bench.py and bench/scan_page.py: bare Flask endpoints
with no database, no crypto and no template: a JSON answer of the same shape and size
as /api/v1/verify, and an HTML page of the size of the scan page (``/v/<token>``)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify

ANSWER: dict[str, Any] = {
    "verdict": "valid",
    "foreign_host": None,
    "credential": {
        "id": "EFo73JVsnMilmLEO",
        "kind": "staff",
        "issued_at": "2026-11-22T03:09:14+00:00",
        "not_before": None,
        "expires_at": "2027-11-22T03:09:14+00:00",
    },
    "staff": {
        "code": "TTTT-001",
        "name": "Nguyễn Văn Đức",
        "title": "Phóng viên",
        "unit": "Trung tâm Thông tin - Truyền thông, Ban Thi đua - Khen thưởng Trung ương",
        "phone": "+84912345678",
        "phone_display": "0912 345 678",
        "email": "duc.nv@tdkt.gov.vn",
        "status": "active",
        "photo_url": None,
    },
    "official_contacts": [],
    "checked_at": "2026-11-22T03:09:14.603834+00:00",
}


# about the size of the scan page of a valid card (2,751 bytes in Vietnamese)
PAGE = '<!doctype html>\n<html lang="vi">\n<body>\n' + "<p>Hợp lệ: Nguyễn Văn Đức</p>\n" * 67 + "</body>\n</html>"


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/api/v1/verify")
    def verify() -> Response:
        return jsonify(ANSWER)

    @app.get("/v/<token>")
    def page(token: str) -> Response:
        return Response(PAGE, mimetype="text/html")

    return app
