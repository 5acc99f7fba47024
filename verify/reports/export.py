"""Every report as CSV, for a spreadsheet: UTF-8 with a byte order mark (so Excel
shows Vietnamese), and no cell that Excel would run as a formula."""

from __future__ import annotations

import csv
import io
from typing import Any

from verify.reports.intake import STORED, TRIAGE, report_json
from verify.reports.models import Report

# the columns of the CSV export, in order: every field of the full JSON, the lists
# (identifiers, files) joined
CSV_COLUMNS = ("reference", "status", "created_at", *STORED, "identifiers", "files", *TRIAGE)
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # Excel would run these as formulas


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # a report is attacker-written text: never let Excel evaluate it (OWASP CSV injection)
    if text.startswith(CSV_FORMULA_START):
        return "'" + text
    return text


def _csv_row(report: Report) -> list[str]:
    data = report_json(report, full=True)
    data["identifiers"] = " ".join(f"{i['kind']}:{i['value']}" for i in data["identifiers"])
    data["files"] = " ".join(f"{f['name']} ({f['mime']}, {f['size']} B, sha256 {f['sha256']})" for f in data["files"])
    return [_csv_cell(data[column]) for column in CSV_COLUMNS]


def export_csv(reports: list[Report]) -> str:
    """CSV in UTF-8 with a byte order mark: Excel then shows Vietnamese correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        writer.writerow(_csv_row(report))
    return out.getvalue()
