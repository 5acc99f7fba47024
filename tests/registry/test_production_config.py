"""Issue 13: production refuses to start, with a clear message, with a short
SECRET_KEY, an http:// PUBLIC_BASE_URL or an http:// WEBHOOK_URL; it sends HSTS by
default. The instance folder is 0700 and the embedded SQLite file (and its -wal and
-shm files) 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import MASTER_B64

from app import create_app
from registry.platform.config import ConfigError
from registry.platform.db import dispose_engines

GOOD = {
    "CHINHDANH_ENV": "production",
    "CHINHDANH_MASTER_KEY": MASTER_B64,
    "SECRET_KEY": "k" * 32,
    "PUBLIC_BASE_URL": "https://xacminh.example.vn",
}


def production(tmp_path: Path, **changes: Any) -> Any:
    config = {**GOOD, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}", "INSTANCE_PATH": str(tmp_path / "i")}
    config.update(changes)
    return create_app({k: v for k, v in config.items() if v is not None})


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "PUBLIC_BASE_URL", "WEBHOOK_URL", "HSTS_SECONDS", "CHINHDANH_ENV"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SECRET_KEY": "k" * 31}, "SECRET_KEY has 31 bytes; it must have at least 32"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY has 5 bytes; it must have at least 32"),
        ({"PUBLIC_BASE_URL": "http://xacminh.example.vn"}, "PUBLIC_BASE_URL must start with https://"),
        ({"WEBHOOK_URL": "http://hooks.example.vn/in"}, "WEBHOOK_URL must start with https://"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, changes, message):
    with pytest.raises(ConfigError) as exc:
        production(tmp_path, **changes)
    assert message in str(exc.value)
    assert str(exc.value).startswith("CHINHDANH_ENV=production ")


def test_every_problem_is_named_at_once(tmp_path):
    with pytest.raises(ConfigError) as exc:
        production(tmp_path, SECRET_KEY="x", PUBLIC_BASE_URL="http://a.example", WEBHOOK_URL="ftp://b")
    text = str(exc.value)
    assert "SECRET_KEY" in text and "PUBLIC_BASE_URL" in text and "WEBHOOK_URL" in text


def test_the_refusal_reaches_the_command_line(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, **GOOD, "SECRET_KEY": "short", "DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}"}
    env["CHINHDANH_INSTANCE"] = str(tmp_path / "ci")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "routes"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY has 5 bytes; it must have at least 32" in result.stderr


def test_a_good_production_configuration_starts_and_sends_hsts(tmp_path):
    app = production(tmp_path, WEBHOOK_URL="https://hooks.example.vn/in")
    try:
        resp = app.test_client().get("/healthz")
        assert resp.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    finally:
        dispose_engines(app)


def test_hsts_can_be_turned_off_and_is_off_outside_production(tmp_path):
    off = production(tmp_path, HSTS_SECONDS=0)
    dev = production(tmp_path, CHINHDANH_ENV="development", PUBLIC_BASE_URL="http://127.0.0.1:5000")
    try:
        assert "Strict-Transport-Security" not in off.test_client().get("/healthz").headers
        assert "Strict-Transport-Security" not in dev.test_client().get("/healthz").headers
    finally:
        dispose_engines(off)
        dispose_engines(dev)


def test_instance_folder_is_0700_and_the_embedded_database_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    old = os.umask(0o022)  # the usual umask: files 0644, folders 0755 unless we say otherwise
    try:
        app = create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "CHINHDANH_MASTER_KEY": MASTER_B64})
        from sqlalchemy import text

        from registry.platform.db import sessions

        with sessions(app)() as s:  # a write makes SQLite create its -wal and -shm files
            s.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            s.execute(text("INSERT INTO t VALUES (1)"))
            s.commit()
            folder = tmp_path / "inst"
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
            files = sorted(p.name for p in folder.iterdir() if p.name.startswith("chinhdanh.sqlite3"))
            assert files == ["chinhdanh.sqlite3", "chinhdanh.sqlite3-shm", "chinhdanh.sqlite3-wal"]
            for name in files:
                assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
        dispose_engines(app)
        # an existing folder and database that others could read are tightened at start-up
        os.chmod(folder, 0o755)  # noqa: S103 - the loose mode start-up must tighten
        os.chmod(folder / "chinhdanh.sqlite3", 0o644)
        again = create_app({"INSTANCE_PATH": str(folder), "CHINHDANH_MASTER_KEY": MASTER_B64})
        dispose_engines(again)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "chinhdanh.sqlite3").stat().st_mode) == 0o600
    finally:
        os.umask(old)
