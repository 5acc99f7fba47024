"""``backup`` then ``restore``: SQLite -> SQLite and SQLite -> PostgreSQL give the
same verdicts, lookups, reports with their evidence bytes and an intact audit log;
a non-empty target, a damaged file and a file from a newer schema are refused (exit
2); ``audit revocations --since`` lists what to re-apply after a restore."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import NOW, app_config
from fixtures.database import head_revision, migrate, revision_before
from flask import Flask
from helpers_admin import Sample, cheap_argon2, sample_data  # noqa: F401 - cheap_argon2 is a fixture
from sqlalchemy import make_url, select, text
from sqlalchemy.pool import NullPool

from app import create_app
from keys.contract import VN_TZ
from keys.crypto import MasterKey
from registry.backup.service import non_empty_tables
from registry.credentials import service as credentials
from registry.credentials.models import CredentialStatus
from registry.platform.db import dispose_engines, make_engine
from verify.reports import triage
from verify.reports.intake import report_json
from verify.reports.models import ReportFile, ReportStatus

BEFORE_EVIDENCE = revision_before("h14e_0011_evidence_in_db")  # evidence still on disk
HEAD = head_revision()  # the program's schema

PG = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def _sessions(app: Flask) -> Any:
    return app.extensions["chinhdanh.sessionmaker"]


def _observe(app: Flask, sample: Sample) -> dict[str, Any]:
    """What a user and an admin see: verdicts, lookups, the report with its evidence
    bytes, and the audit log's check."""
    client = app.test_client()
    seen: dict[str, Any] = {}
    seen["verify"] = client.get("/api/v1/verify", query_string={"token": sample.token}).json
    for q in ("0987 000 111", "ttttt@tdkt.gov.vn", sample.staff_code):
        seen[f"lookup {q}"] = client.get("/api/v1/lookup", query_string={"q": q}).json
    with app.app_context(), _sessions(app)() as s:
        report = triage.get_report(s, sample.report_ref)
        seen["report"] = report_json(report, full=True)
        seen["evidence"] = triage.evidence_file(s, sample.report_ref, sample.file_id)
        assignment = credentials.get_credential(s, sample.assignment_id)
        seen["assignment"] = (assignment.status.value, assignment.token)
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--json"])
    assert result.exit_code == 0, result.output
    seen["audit"] = json.loads(result.output)
    return seen


@pytest.fixture()
def source(tmp_path: Path, master: MasterKey, cheap_argon2: None) -> Iterator[tuple[Flask, Sample]]:  # noqa: F811
    """An embedded SQLite installation with one of everything, a confirmed report
    and a revoked assignment."""
    url = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    migrate(url)
    app = create_app(app_config(url, tmp_path / "source-instance"))
    with app.app_context(), _sessions(app)() as s:
        sample = sample_data(app, s, master)
        triage.triage(s, sample.report_ref, ReportStatus.REVIEWING, note=None, actor="test", now=NOW)
        triage.triage(s, sample.report_ref, ReportStatus.CONFIRMED, note="đúng", actor="test", now=NOW)
        credentials.change_status(
            s, sample.assignment_id, CredentialStatus.REVOKED, actor="test", now=NOW, reason="lost letter"
        )
        s.commit()
    yield app, sample
    dispose_engines(app)


def _backup(app: Flask, path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "backup written to" in result.output
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def _restore(url: str, instance: Path, path: Path) -> tuple[Flask, Any]:
    app = create_app(app_config(url, instance))
    result = app.test_cli_runner().invoke(args=["restore", str(path)])
    return app, result


@pytest.fixture()
def pg_target() -> Iterator[str]:
    """An empty PostgreSQL database beside the test database."""
    if not PG:
        pytest.skip("SQLite -> PostgreSQL needs TEST_DATABASE_URL on PostgreSQL")
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_restore"
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _same_after_restore(source: tuple[Flask, Sample], url: str, tmp_path: Path) -> Flask:
    app, sample = source
    before = _observe(app, sample)
    assert before["verify"]["verdict"] == "valid"
    assert before["lookup 0987 000 111"]["answer"] == "reported_impostor"
    assert before["assignment"][0] == "revoked"
    path = tmp_path / "chinhdanh.backup"
    _backup(app, path)
    restored, result = _restore(url, tmp_path / "target-instance", path)
    assert result.exit_code == 0, result.output
    assert "Re-apply any revocation made after that time" in result.output
    after = _observe(restored, sample)
    assert after == before
    return restored


def test_sqlite_to_sqlite(source: tuple[Flask, Sample], tmp_path: Path) -> None:
    restored = _same_after_restore(source, f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path)
    dispose_engines(restored)


def test_sqlite_to_postgresql(source: tuple[Flask, Sample], tmp_path: Path, pg_target: str) -> None:
    restored = _same_after_restore(source, pg_target, tmp_path)
    try:
        # the sequences go on after the restored ids: a new report is stored
        resp = restored.test_client().post(
            "/api/v1/reports",
            json={
                "channel": "phone",
                "phone": "0912 000 111",
                "request_text": "Xin phí",
                "reporter_agency": "Sở X",
                "reporter_contact": "Anh B",
            },
        )
        assert resp.status_code == 201, resp.json
        assert (resp.json or {})["reference"] == "BC-2026-000002"
    finally:
        dispose_engines(restored)


def test_restore_into_a_non_empty_database_is_refused(source: tuple[Flask, Sample], tmp_path: Path) -> None:
    app, sample = source
    path = tmp_path / "b.backup"
    _backup(app, path)
    before = _observe(app, sample)
    result = app.test_cli_runner().invoke(args=["restore", str(path)])
    assert result.exit_code == 2
    assert "error (restore_refused): the target database is not empty (" in result.output
    assert _observe(app, sample) == before  # nothing was touched


def test_backup_refuses_a_database_with_tables_it_does_not_know(source: tuple[Flask, Sample], tmp_path: Path) -> None:
    app, _sample = source
    with app.app_context(), _sessions(app)() as s:
        s.execute(text("CREATE TABLE stray (id INTEGER PRIMARY KEY)"))
        s.commit()
    path = tmp_path / "b.backup"
    result = app.test_cli_runner().invoke(args=["backup", str(path)])
    assert result.exit_code == 2
    assert "error (restore_refused): the database has tables this program does not know (stray)" in result.output
    assert not path.exists() and not (tmp_path / "b.backup.partial").exists()


def test_backup_refuses_a_database_not_at_this_programs_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(app_config(url, tmp_path / "instance"))
    try:
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade", BEFORE_EVIDENCE]).exit_code == 0
        result = runner.invoke(args=["backup", str(tmp_path / "b.backup")])
        assert result.exit_code == 2
        head = HEAD
        assert f"the database's schema is at {BEFORE_EVIDENCE}, this program's at {head}" in result.output
        assert "run flask --app app db upgrade first" in result.output
    finally:
        dispose_engines(app)


def test_a_backup_of_an_older_schema_is_restored_then_migrated(source: tuple[Flask, Sample], tmp_path: Path) -> None:
    """A backup taken at 0010 (evidence still on disk) restores at 0010, then the
    schema goes up to date, the evidence moving in from the target's folder."""
    app, sample = source
    before = _observe(app, sample)
    path = tmp_path / "b.backup"
    _backup(app, path)
    lines = gzip.decompress(path.read_bytes()).splitlines()
    header = json.loads(lines[0]) | {"revision": [BEFORE_EVIDENCE]}
    old = [json.dumps(header).encode(), *lines[1:]]
    for table in ("evidence_blobs", "signed_keysets"):  # the tables made after that revision
        start = next(i for i, line in enumerate(old) if line.startswith(b'{"table":"%s"' % table.encode()))
        end = next(i for i in range(start, len(old)) if old[i].startswith(b'{"end":"%s"' % table.encode()))
        old = [*old[:start], *old[end + 1 :]]
    # and no offline root (issue 13): at that revision a root was sealed in its row
    start = next(i for i, line in enumerate(old) if line.startswith(b'{"table":"signing_keys"'))
    sealed = json.loads(old[start])["columns"].index("private_key_sealed")
    end = next(i for i in range(start, len(old)) if old[i].startswith(b'{"end":"signing_keys"'))
    for i in range(start + 1, end):
        row = json.loads(old[i])
        if row[sealed] is None:
            row[sealed] = {"$b64": "c2VhbGVkIGhlcmUgYnkgYW4gb2xkZXIgdmVyc2lvbg=="}
            old[i] = json.dumps(row, separators=(",", ":")).encode()
    older = tmp_path / "older.backup"
    older.write_bytes(gzip.compress(b"\n".join(old) + b"\n"))
    instance = tmp_path / "target-instance"
    with app.app_context(), _sessions(app)() as s:
        stored = s.scalars(select(ReportFile.stored_name)).one()
    (instance / "evidence").mkdir(parents=True)
    (instance / "evidence" / stored).write_bytes(before["evidence"][0])
    restored, result = _restore(f"sqlite:///{tmp_path / 'target.sqlite3'}", instance, older)
    try:
        assert result.exit_code == 0, result.output
        assert _observe(restored, sample) == before
    finally:
        dispose_engines(restored)


def _rewrite(path: Path, out: Path, change: Any) -> Path:
    lines = gzip.decompress(path.read_bytes()).splitlines()
    header = json.loads(lines[0])
    change(header)
    out.write_bytes(gzip.compress(b"\n".join([json.dumps(header).encode(), *lines[1:]]) + b"\n"))
    return out


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncated", "the backup file is damaged or not a backup"),
        ("cut_lines", "the file ends before its last line: it is truncated"),
        ("not_gzip", "the backup file is damaged or not a backup"),
        ("newer_schema", "the backup comes from a schema this program does not know (h99_9999_future)"),
        ("newer_format", "the backup's format version 2 is newer than this program reads (1)"),
    ],
)
def test_damaged_or_newer_backups_are_refused(
    source: tuple[Flask, Sample], tmp_path: Path, damage: str, message: str
) -> None:
    app, _sample = source
    path = tmp_path / "b.backup"
    _backup(app, path)
    bad = tmp_path / "bad.backup"
    if damage == "truncated":
        bad.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "cut_lines":
        lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
        bad.write_bytes(gzip.compress(b"".join(lines[: len(lines) // 2])))
    elif damage == "not_gzip":
        bad.write_text("hello")
    elif damage == "newer_schema":
        _rewrite(path, bad, lambda h: h.update(revision=["h99_9999_future"]))
    else:
        _rewrite(path, bad, lambda h: h.update(version=2))
    target, result = _restore(f"sqlite:///{tmp_path / 'target.sqlite3'}", tmp_path / "t", bad)
    try:
        assert result.exit_code == 2, result.output
        assert message in result.output
        with target.app_context(), _sessions(target)() as s:  # nothing loaded
            assert non_empty_tables(s.connection()) == []
    finally:
        dispose_engines(target)


def test_revocations_since_a_time_with_the_command_to_reapply(source: tuple[Flask, Sample]) -> None:
    app, sample = source
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "revocations", "--since", "2026-11-20T10:00", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["revocations"]
    assert [(r["action"], r["target"], r["reason"]) for r in rows] == [
        ("assignment.revoke", sample.assignment_id, "lost letter")
    ]
    assert rows[0]["command"] == f"flask --app app assignment revoke {sample.assignment_id} --reason 'lost letter'"
    # NOW is 10:00 in Viet Nam: a minute later, nothing
    a_minute_later = (NOW + timedelta(minutes=1)).astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M")
    later = runner.invoke(args=["audit", "revocations", "--since", a_minute_later])
    assert later.exit_code == 0
    assert later.output.strip() == "no revocation since then"
    bad = runner.invoke(args=["audit", "revocations", "--since", "yesterday"])
    assert bad.exit_code == 2
    assert "a time like 2026-12-01T10:00" in bad.output
