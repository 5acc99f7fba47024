"""`reports export`: CSV in UTF-8 with a BOM read back by the csv module (acceptance
5), JSON with every field, and no formula injection into spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask.testing import FlaskClient
from helpers_reports import valid_report

from verify.reports.export import CSV_COLUMNS


def _submit(client: FlaskClient, **overrides: Any) -> str:
    resp = client.post("/api/v1/reports", json=valid_report(**overrides))
    assert resp.status_code == 201, resp.json
    body: dict[str, Any] = resp.get_json()
    return str(body["reference"])


def test_csv_export_reads_back_with_vietnamese_intact(runner, client, tmp_path):
    first = _submit(client)
    second = _submit(client, claimed_name="Trương Thị Ánh Tuyết", request_text='=HYPERLINK("http://x")')
    out = tmp_path / "reports.csv"
    result = runner.invoke(args=["reports", "export", "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to pick UTF-8
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0].keys()) == list(CSV_COLUMNS)
    assert [r["reference"] for r in rows] == [first, second]
    assert rows[0]["claimed_name"] == "Nguyễn Văn Đức"
    assert rows[1]["claimed_name"] == "Trương Thị Ánh Tuyết"
    assert rows[0]["reporter_agency"] == "Sở Nội vụ tỉnh Hà Tĩnh"
    assert rows[0]["amount_vnd"] == "5000000"
    assert "phone:+84987654321" in rows[0]["identifiers"]
    # a formula typed into a report is defused for spreadsheets
    assert rows[1]["request_text"] == '\'=HYPERLINK("http://x")'


def test_csv_export_to_stdout(runner, client):
    _submit(client)
    result = runner.invoke(args=["reports", "export", "--format", "csv"])
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == list(CSV_COLUMNS) and len(rows) == 2
    assert "Nguyễn Văn Đức" in rows[1]


def test_json_export_has_every_field(runner, client):
    ref = _submit(client)
    result = runner.invoke(args=["reports", "export", "--format", "json"])
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["count"] == 1
    report = body["reports"][0]
    assert report["reference"] == ref
    assert set(CSV_COLUMNS) <= set(report)
    assert report["claimed_name"] == "Nguyễn Văn Đức"
    assert report["reporter_contact"] == "Trần Thị Lan, 0239 385 5555"


def test_export_of_nothing(runner):
    result = runner.invoke(args=["reports", "export", "--format", "json"])
    assert json.loads(result.stdout) == {"count": 0, "reports": []}
    assert runner.invoke(args=["reports", "export"]).exit_code == 2  # --format is required
