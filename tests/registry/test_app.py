"""The factory: configuration layers, refusal of insecure production settings,
generated secrets, health checks, security headers, languages, error pages."""

from __future__ import annotations

import stat

import pytest
from factories import MASTER_B64, app_config

from app import create_app
from registry.platform.config import ConfigError
from registry.platform.db import dispose_engines


def test_generated_secrets_are_0600_and_reused(tmp_path, database_url, monkeypatch):
    monkeypatch.delenv("CHINHDANH_MASTER_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "inst")}
    first = create_app(config)
    for name in ("master.key", "secret.key"):
        mode = stat.S_IMODE((tmp_path / "inst" / name).stat().st_mode)
        assert mode == 0o600
    second = create_app(config)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["CHINHDANH_MASTER_KEY"] == second.config["CHINHDANH_MASTER_KEY"]
    for a in (first, second):
        dispose_engines(a)


@pytest.mark.parametrize("missing", ["CHINHDANH_MASTER_KEY", "SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_missing_explicit_secrets(tmp_path, monkeypatch, missing):
    for name in ("CHINHDANH_MASTER_KEY", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
        "CHINHDANH_ENV": "production",
    }
    del env[missing]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=missing):
        create_app({"INSTANCE_PATH": str(tmp_path / "inst")})


def test_production_sets_secure_cookies(tmp_path, monkeypatch):
    for name, value in {
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
        "CHINHDANH_ENV": "production",
        "HSTS_SECONDS": "31536000",
        "PUBLIC_BASE_URL": "https://xacminh.example.vn",
    }.items():
        monkeypatch.setenv(name, value)
    application = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    assert application.config["SESSION_COOKIE_SECURE"] is True
    assert application.config["SESSION_COOKIE_HTTPONLY"] is True
    assert application.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    resp = application.test_client().get("/healthz")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    dispose_engines(application)


def test_bad_master_key_is_refused(tmp_path, database_url):
    with pytest.raises(ConfigError, match="CHINHDANH_MASTER_KEY"):
        create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path), "CHINHDANH_MASTER_KEY": "short"})


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready", "warnings": ["keyset_unsigned"], "keyset": None}


def test_readiness_fails_when_database_is_down(tmp_path):
    broken = create_app(app_config(f"sqlite:///{tmp_path}/missing/dir/db.sqlite3", tmp_path / "inst"))
    resp = broken.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.json is not None and resp.json["error"]["code"] == "database_unavailable"
    assert broken.test_client().get("/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/v/abc", "/nope", "/api/v1/nope", "/.well-known/jwks.json"])
def test_security_headers_everywhere(client, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]


def test_errors_in_the_users_language_and_json_on_the_api(client):
    page = client.get("/nope")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert '<html lang="vi">' in page.get_data(as_text=True)
    english = client.get("/nope?lang=en")
    assert '<html lang="en">' in english.get_data(as_text=True)
    api = client.get("/api/v1/nope")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"
    assert client.put("/api/v1/verify").json["error"]["code"] == "method_not_allowed"


def test_language_choice_is_remembered(client):
    client.get("/healthz?lang=en")
    assert '<html lang="en">' in client.get("/v/x").get_data(as_text=True)
    assert '<html lang="vi">' in client.get("/v/x?lang=vi").get_data(as_text=True)


def test_vietnamese_is_the_default_with_translations(client):
    html = client.get("/v/not-a-token").get_data(as_text=True)
    assert 'data-verdict="malformed"' in html
    assert "KHÔNG PHẢI" in html  # the Vietnamese headline, not the English msgid


def test_verification_reads_through_an_autocommit_engine(database_url: str) -> None:
    """One statement, one round trip: no BEGIN/ROLLBACK around a verification's query."""
    from registry.platform.db import make_engine, make_read_engine

    memory = make_engine("sqlite://")
    assert make_read_engine(memory) is memory  # a second engine would see another database
    engine = make_engine(database_url)
    reader = make_read_engine(engine)
    try:
        assert reader is not engine
        with reader.connect() as conn:
            raw = conn.connection.dbapi_connection
            if engine.dialect.name == "sqlite":
                assert raw.isolation_level is None  # type: ignore[union-attr]
            else:
                assert raw.autocommit is True  # type: ignore[union-attr]
    finally:
        reader.dispose()
        engine.dispose()
        memory.dispose()
