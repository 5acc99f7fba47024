"""The files of deploy/: gunicorn binds to loopback or a unix socket only; the nginx
site, rendered for loopback by deploy/stack.py, is one nginx accepts and still
replaces the client's X-Forwarded-For; the units run the commands the README names."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from factories import ROOT

from deploy.stack import NGINX, SITE, Backend, Stack, nginx_available, render_site

DEPLOY = ROOT / "deploy"


@pytest.fixture()
def gunicorn_conf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    """deploy/gunicorn.conf.py loaded as gunicorn loads it; the environment it sets
    (PROMETHEUS_MULTIPROC_DIR) goes back afterwards, so later servers don't inherit it."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    spec = importlib.util.spec_from_file_location("gunicorn_conf", DEPLOY / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("bind", ["127.0.0.1:8001", "127.0.0.2:80", "[::1]:8001", "localhost:8001", "unix:/run/c.sock"])
def test_gunicorn_binds_loopback_or_a_unix_socket(gunicorn_conf: ModuleType, bind: str) -> None:
    assert gunicorn_conf.loopback_only(bind) == bind


@pytest.mark.parametrize("bind", ["0.0.0.0:8001", "[::]:8001", "10.0.0.5:8001", "example.vn:80", ":8001", "8001"])
def test_gunicorn_refuses_any_other_address(gunicorn_conf: ModuleType, bind: str) -> None:
    with pytest.raises(SystemExit, match="refusing to bind"):
        gunicorn_conf.loopback_only(bind)


def test_each_instance_has_its_own_control_socket(gunicorn_conf: ModuleType, tmp_path: Path) -> None:
    """gunicorn's default control socket is one path per user: two instances on one
    machine would share it."""
    assert gunicorn_conf.control_socket == str(tmp_path / "metrics" / "gunicorn.ctl")


def test_the_site_replaces_the_clients_forwarded_headers() -> None:
    site = SITE.read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site  # set, never $proxy_add_x_forwarded_for
    assert "$proxy_add_x_forwarded_for" not in site
    assert 'proxy_set_header X-Forwarded-Host "";' in site
    assert "client_max_body_size 16m;" in site  # the app's MAX_CONTENT_LENGTH
    assert "/v/<token>" in site  # tokens stay out of the access log


@pytest.mark.skipif(not nginx_available(), reason="nginx is not installed (./dev test installs Debian's)")
def test_the_rendered_site_is_valid_for_nginx(tmp_path: Path) -> None:
    backends = [Backend(name="chinhdanh"), Backend(name="bare", app_spec="bench.bare_app:create_app()")]
    stack = Stack(backends, prefix=tmp_path)
    conf = stack.nginx_conf()
    text = conf.read_text()
    assert f"listen 127.0.0.1:{stack.backends[1].listen_port} ssl;" in text
    assert text.count("log_format chinhdanh") == 1
    check = subprocess.run([NGINX, "-t", "-p", str(stack.prefix), "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_rendering_refuses_a_site_it_does_not_understand(tmp_path: Path) -> None:
    site = SITE.read_text().replace("listen 443 ssl http2;", "listen 8443 ssl;")
    with pytest.raises(RuntimeError, match="expected 1 match"):
        render_site(site, name="x", listen_port=1, upstream_ports=[2], cert=tmp_path, key=tmp_path, logs=tmp_path)


@pytest.mark.parametrize(
    ("unit", "command"),
    [
        ("chinhdanh@.service", "gunicorn -c deploy/gunicorn.conf.py app:create_app()"),
        ("chinhdanh-outbox.service", "flask --app app outbox deliver"),
        ("chinhdanh-audit-checkpoint.service", "flask --app app audit checkpoint --send"),
    ],
)
def test_units_run_the_documented_commands(unit: str, command: str) -> None:
    text = (DEPLOY / "systemd" / unit).read_text()
    assert f"/srv/chinhdanh/.venv/bin/{command}" in text
    assert "EnvironmentFile=/etc/chinhdanh/chinhdanh.env" in text
    assert command.split()[0] in (ROOT / "README.md").read_text()
