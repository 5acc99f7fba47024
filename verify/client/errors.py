"""The offline client's one exception family. Every error means "could not decide"
(exit code 2): it is never a verdict. Each has a stable snake_case ``code`` that the
``--json`` output carries; the command line turns them into a translated message."""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error of the verifier client."""

    code = "client_error"

    def __init_subclass__(cls, *, code: str | None = None, **kwargs: object) -> None:
        """Each error names its code where it is declared: ``class X(ClientError, code="x")``."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, template: str, **details: object) -> None:
        # ``template`` is an English msgid with {placeholders}: the library shows it
        # as is, the command line translates it first.
        message = template.format(**details)
        super().__init__(message)
        self.template = template
        self.message = message
        self.details = details


class NetworkError(ClientError, code="network_error"):
    """The server could not be reached or did not answer usefully."""


class ServerTimeoutError(NetworkError, code="timeout"):
    """The server did not answer in time."""


class ConnectionRefusedByServerError(NetworkError, code="connection_failed"):
    """No connection could be made to the server."""


class HTTPStatusError(NetworkError, code="http_error"):
    """The server answered with an unexpected HTTP status (a 5xx, a 404...)."""


class InvalidResponseError(NetworkError, code="invalid_response"):
    """The answer is not what the server sends: invalid JSON, a token that does not
    parse, too large, the wrong issuer. It may have been tampered with in transit."""


class TrustError(ClientError, code="untrusted"):
    """The root key or a signed document cannot be trusted: a different root than the
    one pinned, or a signature that does not verify."""


class RootChangedError(TrustError, code="root_changed"):
    """The server shows another root than the one pinned."""


class TrustRequiredError(TrustError, code="trust_required"):
    """No root is pinned for this server yet, and neither a thumbprint to pin nor
    consent to trust whatever root the server shows (``tofu``) was given."""


class RollbackError(TrustError, code="rollback"):
    """A signed document older than the one already cached: a replay."""


class NotSyncedError(ClientError, code="not_synced"):
    """Nothing cached for this server (or not the data a token needs) and the
    network may not be used."""


class NoServerError(ClientError, code="no_server"):
    """No --server, no CHINHDANH_SERVER and nothing synced before, or an address
    that is not a server's."""


class InsecureServerError(NoServerError, code="insecure_server"):
    """A server address in plain ``http://`` that is not this computer: anyone on
    the way could answer in the server's name."""


class StaleDataError(ClientError, code="stale"):
    """The cached key set or status list is past its own expiry."""


class UndecidableError(ClientError, code="undecidable"):
    """A well-signed token that the cached data cannot settle (a status list the
    server never published, an index outside it)."""


class InputError(ClientError, code="bad_input"):
    """The CHECK argument cannot be read: an unreadable file, no QR code in it."""


class CacheError(ClientError, code="cache_error"):
    """The cache directory cannot be read or written."""


class InternalError(ClientError, code="internal_error"):
    """Something the client does not expect went wrong: a bug, reported by the command
    line as "could not decide" rather than as a traceback."""
