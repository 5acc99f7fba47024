"""Staff imported from CSV (header ``code,name,title,unit,phone,email``): every row
validated before anything is written, then created or updated by code, so that
importing the same file twice changes nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from registry.errors import ImportRowsError, ValidationError
from registry.staff.models import StaffDetails
from registry.staff.service import add_staff, find_staff, update_staff, validate_staff

CSV_HEADER = ["code", "name", "title", "unit", "phone", "email"]
MAX_IMPORT_ROWS = 100_000


def parse_csv(text: str) -> list[StaffDetails]:
    """Validate a whole CSV (header code,name,title,unit,phone,email).

    Returns every row validated, or raises ImportRowsError naming each bad row by its
    line number: nothing is written unless every row is good.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRowsError({1: ["the file is empty"]}) from None
    if header != CSV_HEADER:
        raise ImportRowsError({1: [f"header must be {','.join(CSV_HEADER)}"]})
    rows: list[StaffDetails] = []
    problems: dict[int, list[str]] = {}
    seen: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(problems) >= MAX_IMPORT_ROWS:
            problems[line] = [f"more than {MAX_IMPORT_ROWS} rows"]
            break
        if len(values) != len(CSV_HEADER):
            problems[line] = [f"expected {len(CSV_HEADER)} columns, found {len(values)}"]
            continue
        fields = dict(zip(CSV_HEADER, values, strict=True))
        errors: list[str] = []
        try:
            row = validate_staff(**fields)
        except ValidationError as exc:
            errors.append(exc.message)
            row = None
        if row is not None and row.code in seen:
            errors.append(f"code {row.code} repeats line {seen[row.code]}")
        if errors:
            problems[line] = errors
        elif row is not None:
            seen[row.code] = line
            rows.append(row)
    if problems:
        raise ImportRowsError(problems)
    return rows


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def import_staff(session: Session, rows: list[StaffDetails], *, actor: str, now: datetime) -> ImportResult:
    """Create or update by code; importing the same file twice changes nothing."""
    created, updated, unchanged = [], [], []
    for row in rows:
        staff = find_staff(session, row.code)
        if staff is None:
            add_staff(session, row, actor=actor, now=now)
            created.append(row.code)
            continue
        same = (staff.name, staff.title, staff.unit, staff.phone, staff.email) == (
            row.name,
            row.title,
            row.unit,
            row.phone,
            row.email,
        )
        if same:
            unchanged.append(row.code)
        else:
            update_staff(session, staff, row, actor=actor, now=now)
            updated.append(row.code)
    return ImportResult(created, updated, unchanged)
