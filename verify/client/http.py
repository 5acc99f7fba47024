"""HTTP for the verifier client: bounded timeouts, a few retries with back-off on
failures that may pass (timeouts, refused connections, 5xx), conditional requests
with ETags (a 304 counts only as the answer to the client's own If-None-Match),
and a cap on how much of an answer is read. Every failure becomes one of the
client's ``NetworkError`` subclasses; nothing from ``requests`` leaks out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from urllib3.exceptions import ReadTimeoutError

from verify.client.errors import (
    ConnectionRefusedByServerError,
    HTTPStatusError,
    InvalidResponseError,
    NetworkError,
    ServerTimeoutError,
)

DEFAULT_TIMEOUT = 10.0  # seconds to connect and between bytes: a slow provincial link
DEFAULT_RETRIES = 2  # three tries in all; more only delays the "could not decide"
BACKOFF_SECONDS = 0.5  # doubled after each failed try
MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # the largest document we expect (the roster)
CHUNK = 64 * 1024
USER_AGENT = "chinhdanh-verify/1"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # 200 or 304
    body: bytes
    etag: str | None


def _opaque(etag: str) -> str:
    """An entity tag without its weak prefix: a compressing proxy may weaken a
    strong tag on its way through (RFC 9110, section 8.8.3)."""
    etag = etag.strip()
    return etag[2:] if etag.startswith("W/") else etag


def _confirms(sent: str | None, answered: str | None) -> bool:
    """Whether a 304 answers the client's own If-None-Match ``sent``: one was sent,
    and the answer names no tag or the same one."""
    if not sent:
        return False
    return answered is None or _opaque(answered) == _opaque(sent)


class Fetcher:
    """GETs with the client's rules. ``sleep`` is a parameter so tests do not wait."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.sleep = sleep

    def get(self, url: str, *, etag: str | None = None, allow_404: bool = False) -> Answer | None:
        """The answer to GET ``url`` (None for a 404 when ``allow_404``). Raise a
        NetworkError subclass once every try has failed."""
        headers = {"If-None-Match": etag} if etag else {}
        error: NetworkError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            try:
                return self._once(url, headers, allow_404)
            except (ServerTimeoutError, ConnectionRefusedByServerError) as exc:
                error = exc
            except HTTPStatusError as exc:
                if int(str(exc.details.get("status", 0))) < 500:
                    raise
                error = exc
        assert error is not None  # noqa: S101  # the loop ran at least once
        raise error

    def _once(self, url: str, headers: dict[str, str], allow_404: bool) -> Answer | None:
        try:
            with self.session.get(
                url, headers=headers, timeout=self.timeout, stream=True, allow_redirects=False
            ) as resp:
                if resp.status_code == 404 and allow_404:
                    return None
                if resp.status_code not in (200, 304):
                    raise HTTPStatusError(
                        "The server answered {url} with HTTP status {status}.", url=url, status=resp.status_code
                    )
                body = b""
                if resp.status_code == 200:
                    chunks = []
                    size = 0
                    for chunk in resp.iter_content(CHUNK):
                        size += len(chunk)
                        if size > MAX_RESPONSE_BYTES:
                            raise InvalidResponseError("The answer from {url} is far too large.", url=url)
                        chunks.append(chunk)
                    body = b"".join(chunks)
                etag = resp.headers.get("ETag")
                if resp.status_code == 304 and not _confirms(headers.get("If-None-Match"), etag):
                    # "not modified" means "keep the copy you named": a 304 to a request
                    # that named none, or naming another, would keep a cached status list
                    # alive past a revocation
                    raise InvalidResponseError(
                        'The answer from {url} says "not modified" about a copy this computer did not ask about: '
                        "it was tampered with.",
                        url=url,
                    )
                return Answer(status=resp.status_code, body=body, etag=etag)
        except requests.Timeout as exc:
            raise ServerTimeoutError(
                "The server did not answer {url} within {seconds} seconds.", url=url, seconds=self.timeout
            ) from exc
        except requests.ConnectionError as exc:
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):
                # requests reports a stalled body while streaming as a connection error
                raise ServerTimeoutError(
                    "The server did not answer {url} within {seconds} seconds.", url=url, seconds=self.timeout
                ) from exc
            raise ConnectionRefusedByServerError("Could not connect to the server at {url}.", url=url) from exc
        except requests.RequestException as exc:
            raise NetworkError("The request to {url} failed.", url=url) from exc
