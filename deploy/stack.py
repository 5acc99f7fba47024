"""A loopback copy of the production set-up: deploy/nginx/chinhdanh.conf rendered for
127.0.0.1 (a self-signed certificate, the project's static folder) in front of N
gunicorn instances started with deploy/gunicorn.conf.py, on one database and one
Redis. The multi-instance tests and bench/load.py use it; so can a person:

    python -m deploy.stack up --database URL --redis redis://127.0.0.1:6379/0 [--instances 2] [--port 8443]

(``up`` serves until Ctrl-C, then stops everything). Everything nginx writes (pid,
logs, temporary files) stays in a temporary prefix folder. The database must be
migrated already (``flask --app app db upgrade``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "chinhdanh.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
VENV_BIN = Path(sys.executable).parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MASTER_B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # test key: never for production
PORT_RANGE_ENV = "STACK_PORT_RANGE"  # e.g. 21500-21599: ports are taken from it when set


def nginx_available() -> bool:
    return Path(NGINX).exists() and os.access(NGINX, os.X_OK)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(count: int) -> list[int]:
    """``count`` free loopback ports: from STACK_PORT_RANGE when set, else the system's."""
    spec = os.environ.get(PORT_RANGE_ENV)
    if spec:
        low, high = (int(x) for x in spec.split("-"))
        found = [p for p in range(low, high + 1) if _port_free(p)][:count]
        if len(found) < count:
            raise RuntimeError(f"fewer than {count} free ports in {spec}")
        return found
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in ports:
            ports.append(port)
    return ports


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (cryptography), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _sub(pattern: str, replacement: str, text: str, *, count: int = 1, flags: int = 0) -> str:
    """``re.subn`` that insists on finding what it rewrites: a change to the site
    file that this renderer no longer understands fails loudly, never half-rendered."""
    new, found = re.subn(pattern, lambda _m: replacement, text, flags=flags)
    if found != count:
        raise RuntimeError(f"deploy/nginx/chinhdanh.conf: expected {count} match(es) of {pattern!r}, found {found}")
    return new


def render_site(
    site: str, *, name: str, listen_port: int, upstream_ports: list[int], cert: Path, key: Path, logs: Path
) -> str:
    """The production site, made to listen on 127.0.0.1:``listen_port`` in front of
    ``upstream_ports``; ``name`` keeps several renderings apart in one nginx."""
    text = _sub(r"(?ms)^server \{\n    listen 80;.*?^\}\n", "", site)  # no plain-HTTP redirect
    text = _sub(r"(?m)^    listen \[::\]:443 ssl http2;\n", "", text)
    text = _sub(r"(?m)^    listen 443 ssl http2;$", f"    listen 127.0.0.1:{listen_port} ssl;", text)
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in upstream_ports)
    text = _sub(r"(?m)^    server 127\.0\.0\.1:\d+ [^\n]*\n", "", text, count=2)
    text = _sub(r"(?m)^upstream chinhdanh \{\n", f"upstream {name} {{\n{servers}", text)
    text = _sub(r"proxy_pass http://chinhdanh;", f"proxy_pass http://{name};", text)
    text = _sub(r"(?m)^    ssl_certificate [^\n]*$", f"    ssl_certificate {cert};", text)
    text = _sub(r"(?m)^    ssl_certificate_key [^\n]*$", f"    ssl_certificate_key {key};", text)
    text = _sub(r"shared:chinhdanh_tls:", f"shared:{name}_tls:", text)
    text = _sub(r"(?m)^        alias [^\n]*$", f"        alias {ROOT / 'static'}/;", text)
    text = _sub(
        r"(?m)^    access_log /var/log/nginx/[^\n]*$",
        f"    access_log {logs / (name + '.access.log')} chinhdanh;",
        text,
    )
    if name != "chinhdanh":  # map and log_format are http-level: defined once, by the first site
        text = _sub(r"(?ms)^map \$uri \$chinhdanh_log_uri \{.*?^\}\n", "", text)
        text = _sub(r"(?ms)^log_format chinhdanh .*?;\n", "", text)
    return text


@dataclass
class Backend:
    """One upstream: ``instances`` gunicorn servers of ``app_spec`` behind one nginx
    server block listening on ``listen_port``."""

    name: str
    app_spec: str = "app:create_app()"
    instances: int = 2
    workers: int = 2
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/readyz"
    listen_port: int = 0
    ports: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.listen_port}"


class Stack:
    """nginx and the gunicorn instances of every backend; ``with Stack(...) as s``."""

    def __init__(self, backends: list[Backend], *, prefix: Path | None = None) -> None:
        self.backends = backends
        self.prefix = prefix or Path(tempfile.mkdtemp(prefix="chinhdanh-stack-"))
        self.remove_prefix = prefix is None  # a folder of our own goes at stop, unless start failed
        self.processes: list[subprocess.Popen[bytes]] = []
        self.servers: dict[int, subprocess.Popen[bytes]] = {}
        ports = free_ports(sum(1 + b.instances for b in backends))
        for backend in backends:
            backend.listen_port = ports.pop(0)
            backend.ports = [ports.pop(0) for _ in range(backend.instances)]
        self.cert, self.key = self_signed(self.prefix)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def gunicorn_env(self, backend: Backend, port: int) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CHINHDANH_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(backend.workers),
            "GUNICORN_LOGLEVEL": "warning",
            "PROMETHEUS_MULTIPROC_DIR": str(self.prefix / f"metrics-{port}"),
            "CHINHDANH_INSTANCE": str(self.prefix / f"instance-{port}"),  # nothing shared on disk
            "CHINHDANH_TRUSTED_PROXIES": "1",
            **backend.env,
        }

    def nginx_conf(self) -> Path:
        logs = self.prefix / "logs"
        logs.mkdir(exist_ok=True)
        site = SITE.read_text()
        sites = [
            render_site(
                site,
                name=b.name,
                listen_port=b.listen_port,
                upstream_ports=b.ports,
                cert=self.cert,
                key=self.key,
                logs=logs,
            )
            for b in self.backends
        ]
        temp = self.prefix / "temp"
        temp.mkdir(exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the static folder
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            f"{user}worker_processes 1;\npid {self.prefix / 'nginx.pid'};\nerror_log {logs / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
            f"    client_body_temp_path {temp / 'body'};\n    proxy_temp_path {temp / 'proxy'};\n"
            f"    fastcgi_temp_path {temp / 'fastcgi'};\n    uwsgi_temp_path {temp / 'uwsgi'};\n"
            f"    scgi_temp_path {temp / 'scgi'};\n" + "\n".join(sites) + "\n}\n"
        )
        return conf

    def start_instance(self, backend: Backend, port: int) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", str(GUNICORN_CONF), backend.app_spec],
            cwd=ROOT,
            env=self.gunicorn_env(backend, port),
            stderr=(self.prefix / f"gunicorn-{port}.log").open("ab"),
        )
        self.servers[port] = proc
        self.processes.append(proc)
        return proc

    def start(self, timeout: float = 60) -> Stack:
        try:
            for backend in self.backends:
                for port in backend.ports:
                    self.start_instance(backend, port)
            conf = self.nginx_conf()
            self.processes.append(
                subprocess.Popen(
                    [NGINX, "-p", str(self.prefix), "-c", str(conf), "-g", "daemon off;"],
                    stderr=(self.prefix / "nginx.log").open("ab"),
                )
            )
            for backend in self.backends:
                for port in backend.ports:
                    self.wait(f"http://127.0.0.1:{port}{backend.ready_path}", timeout)
                self.wait(backend.url + backend.ready_path, timeout)
        except BaseException:
            self.remove_prefix = False  # the logs say why
            self.stop()
            raise
        return self

    def wait(self, url: str, timeout: float) -> None:
        context = self.ssl_context() if url.startswith("https") else None
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            for proc in self.processes:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}; see {self.prefix}")
            try:
                with urllib.request.urlopen(url, timeout=3, context=context) as resp:  # our loopback URL
                    if resp.status == 200:
                        return
            except OSError as exc:
                last = exc
            time.sleep(0.2)
        raise RuntimeError(f"{url} not ready within {timeout} s ({last}); logs in {self.prefix}")

    def stop(self) -> None:
        """SIGTERM to every process (nginx: fast shutdown; gunicorn: graceful), wait,
        and remove the prefix folder if the stack made it."""
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.processes.clear()
        if self.remove_prefix:
            shutil.rmtree(self.prefix, ignore_errors=True)

    def worker_pids(self, port: int) -> list[int]:
        """The gunicorn workers of the instance on ``port`` (children of its master)."""
        master = self.servers[port].pid
        children = Path(f"/proc/{master}/task/{master}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


def app_env(*, database_url: str, redis_url: str, public_base_url: str, **extra: str) -> dict[str, str]:
    """The app's settings for a stack: one database, one Redis (limits counted under a
    key prefix of this run's own), explicit secrets."""
    return {
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"chinhdanh-stack-{uuid.uuid4().hex[:12]}",
        "PUBLIC_BASE_URL": public_base_url,
        "CHINHDANH_MASTER_KEY": MASTER_B64,
        "SECRET_KEY": "stack-secret-key-for-loopback-tests-only",
        **extra,
    }


def app_stack(database_url: str, redis_url: str, *, instances: int = 2, workers: int = 2, **extra: str) -> Stack:
    """A stack of one backend, the app; its PUBLIC_BASE_URL is nginx's address."""
    backend = Backend(name="chinhdanh", instances=instances, workers=workers)
    stack = Stack([backend])
    backend.env = app_env(database_url=database_url, redis_url=redis_url, public_base_url=backend.url, **extra)
    return stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "render"])
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis", default=os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if args.command == "render":  # what nginx would be given, on stdout
        stack = app_stack(args.database, args.redis, instances=args.instances)
        print(stack.nginx_conf().read_text())
        return 0
    if not args.database:
        parser.error("--database (or DATABASE_URL) is required")
    if not nginx_available():
        parser.error("nginx is not installed (apt-get install nginx)")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))  # stop cleanly too
    with app_stack(args.database, args.redis, instances=args.instances, workers=args.workers) as stack:
        backend = stack.backends[0]
        print(f"{backend.url}  ->  " + ", ".join(f"127.0.0.1:{p}" for p in backend.ports))
        print(f"certificate: {stack.cert}; logs: {stack.prefix}; Ctrl-C stops everything", flush=True)
        try:
            while all(p.poll() is None for p in stack.processes):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
