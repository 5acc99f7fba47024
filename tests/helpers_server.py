"""Real HTTP servers in a thread on 127.0.0.1: a Flask app, for tests that need a
client other than Flask's (PyJWT's JWKS fetcher, requests, browsers), or a bare
``http.server`` handler standing in for another party (a failing server, a
tampering proxy, a webhook receiver)."""

from __future__ import annotations

import http.server
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def _running(server: socketserver.BaseServer, url: str) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    with _running(server, f"http://127.0.0.1:{server.server_port}") as url:
        yield url


@contextmanager
def serve_handler(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler``, one thread a request, until the block ends; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    with _running(server, f"http://127.0.0.1:{server.server_address[1]}") as url:
        yield url
