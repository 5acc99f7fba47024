"""Evidence lives in the database (migration h14e_0011): any instance serves it, and
the migration moves files left in an instance's evidence folder in, idempotently,
reporting (not failing on) missing or damaged ones."""

from __future__ import annotations

import io
import json
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from factories import ROOT, app_config
from fixtures.database import head_revision, revision_before
from flask import Flask
from helpers_reports import form_data, jpeg_with_exif, pdf, png, stored_evidence
from sqlalchemy import select, text

from app import create_app
from registry.platform.db import dispose_engines, make_engine
from verify.errors import NotFoundError
from verify.reports import triage
from verify.reports.models import ReportFile

BEFORE_EVIDENCE = revision_before("h14e_0011_evidence_in_db")  # evidence still on disk
HEAD = head_revision()  # the program's schema


def _alembic(url: str, *x: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("prepend_sys_path", str(ROOT))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.cmd_opts = Namespace(x=list(x))
    return cfg


def _post(client: Any, files: list[tuple[bytes, str]]) -> str:
    data = form_data()
    data["evidence"] = [(io.BytesIO(b), n) for b, n in files]
    resp = client.post("/api/v1/reports", data=data, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    return str(resp.json["reference"])


def test_evidence_uploaded_to_one_instance_is_served_by_another(
    app: Flask, client: Any, session: Any, database_url: str, tmp_path: Path
) -> None:
    ref = _post(client, [(png(), "a.png")])
    other = create_app(app_config(database_url, tmp_path / "other-instance"))
    try:
        with other.app_context():
            file_id = triage.get_report(session, ref).files[0].public_id
            assert triage.evidence_file(session, ref, file_id) == (png(), "image/png", "a.png")
    finally:
        dispose_engines(other)
    assert not (tmp_path / "other-instance" / "evidence").exists()
    assert not (Path(app.instance_path) / "evidence").exists()


def test_migration_moves_files_from_the_folder_idempotently(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    instance = tmp_path / "instance"
    command.upgrade(_alembic(url), "heads")
    app = create_app(app_config(url, instance))
    files = [(jpeg_with_exif(), "zalo.jpg"), (pdf(), "cong-van.pdf"), (png(), "anh.png")]
    try:
        ref = _post(app.test_client(), files)
        with app.app_context(), app.extensions["chinhdanh.sessionmaker"]() as s:
            rows = s.scalars(select(ReportFile).order_by(ReportFile.id)).all()
            names = [r.stored_name for r in rows]
            ids = [r.public_id for r in rows]
    finally:
        dispose_engines(app)
    # back to the schema of 0010, with the files where 0010 kept them: one is lost,
    # one damaged on disk
    command.downgrade(_alembic(url), BEFORE_EVIDENCE)
    folder = instance / "evidence"
    folder.mkdir(parents=True)
    (folder / names[0]).write_bytes(files[0][0])
    (folder / names[2]).write_bytes(files[2][0] + b"x")
    command.upgrade(_alembic(url, f"evidence={folder}"), "heads")
    app = create_app(app_config(url, instance))
    try:
        with app.app_context(), app.extensions["chinhdanh.sessionmaker"]() as s:
            assert stored_evidence(s) == [files[0][0]]
            assert triage.evidence_file(s, ref, ids[0])[0] == files[0][0]
        runner = app.test_cli_runner()
        # the missing files are put back: the command moves them in, and only them
        (folder / names[1]).write_bytes(files[1][0])
        (folder / names[2]).write_bytes(files[2][0])
        result = runner.invoke(args=["reports", "import-evidence", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"moved": 2, "already": 1, "missing": []}
        result = runner.invoke(args=["reports", "import-evidence", "--json"])
        assert json.loads(result.output) == {"moved": 0, "already": 3, "missing": []}
        with app.app_context(), app.extensions["chinhdanh.sessionmaker"]() as s:
            assert stored_evidence(s) == [b for b, _ in files]
    finally:
        dispose_engines(app)


def test_migration_reports_missing_files_without_failing(tmp_path: Path, capfd: Any) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    instance = tmp_path / "instance"
    command.upgrade(_alembic(url), "heads")
    app = create_app(app_config(url, instance))
    try:
        ref = _post(app.test_client(), [(png(), "a.png")])
    finally:
        dispose_engines(app)
    command.downgrade(_alembic(url), BEFORE_EVIDENCE)
    capfd.readouterr()
    command.upgrade(_alembic(url, f"evidence={instance / 'evidence'}"), "heads")
    err = capfd.readouterr().err
    assert "evidence: NOT moved, " in err and "No such file or directory" in err
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM evidence_blobs")).scalar() == 0
        head = HEAD
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    engine.dispose()
    app = create_app(app_config(url, instance))
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["reports", "import-evidence"])
        assert result.exit_code == 1
        assert "0 moved, 0 already in the database" in result.output
        with app.app_context(), app.extensions["chinhdanh.sessionmaker"]() as s:
            file_id = triage.get_report(s, ref).files[0].public_id
            with pytest.raises(NotFoundError, match="missing from the server's storage"):
                triage.evidence_file(s, ref, file_id)
    finally:
        dispose_engines(app)
