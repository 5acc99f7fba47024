"""The baseline for bench/verify_bench.py: a bare Flask endpoint returning a JSON
answer of the same shape and size as /api/v1/verify, with no database and no crypto."""

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


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/api/v1/verify")
    def verify() -> Response:
        return jsonify(ANSWER)

    return app
