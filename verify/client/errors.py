"""The offline client's one exception family. Every error means "could not decide"
(exit code 2): it is never a verdict. Each has a stable snake_case ``code`` that the
``--json`` output carries; the command line turns them into a translated message."""

from __future__ import annotations


class ClientError(Exception):
    """Base of every error of the verifier client."""

    code = "client_error"

    def __init__(self, template: str, **details: object) -> None:
        # ``template`` is an English msgid with {placeholders}: the library shows it
        # as is, the command line translates it first.
        message = template.format(**details)
        super().__init__(message)
        self.template = template
        self.message = message
        self.details = details


class NetworkError(ClientError):
    """The server could not be reached or did not answer usefully."""

    code = "network_error"


class ServerTimeoutError(NetworkError):
    code = "timeout"


class ConnectionRefusedByServerError(NetworkError):
    code = "connection_failed"


class HTTPStatusError(NetworkError):
    """The server answered with an unexpected HTTP status (a 5xx, a 404...)."""

    code = "http_error"


class InvalidResponseError(NetworkError):
    """The answer is not what the server sends: invalid JSON, a token that does not
    parse, too large, the wrong issuer. It may have been tampered with in transit."""

    code = "invalid_response"


class TrustError(ClientError):
    """The root key or a signed document cannot be trusted: a different root than the
    one pinned, or a signature that does not verify."""

    code = "untrusted"


class RootChangedError(TrustError):
    code = "root_changed"


class TrustRequiredError(TrustError):
    """No root is pinned for this server yet, and neither a thumbprint to pin nor
    consent to trust whatever root the server shows (``tofu``) was given."""

    code = "trust_required"


class RollbackError(TrustError):
    """A signed document older than the one already cached: a replay."""

    code = "rollback"


class NotSyncedError(ClientError):
    """Nothing cached for this server (or not the data a token needs) and the
    network may not be used."""

    code = "not_synced"


class NoServerError(ClientError):
    """No --server, no CHINHDANH_SERVER and nothing synced before, or an address
    that is not a server's."""

    code = "no_server"


class InsecureServerError(NoServerError):
    """A server address in plain ``http://`` that is not this computer: anyone on
    the way could answer in the server's name."""

    code = "insecure_server"


class StaleDataError(ClientError):
    """The cached key set or status list is past its own expiry."""

    code = "stale"


class UndecidableError(ClientError):
    """A well-signed token that the cached data cannot settle (a status list the
    server never published, an index outside it)."""

    code = "undecidable"


class InputError(ClientError):
    """The CHECK argument cannot be read: an unreadable file, no QR code in it."""

    code = "bad_input"


class CacheError(ClientError):
    """The cache directory cannot be read or written."""

    code = "cache_error"


class InternalError(ClientError):
    """Something the client does not expect went wrong: a bug, reported by the command
    line as "could not decide" rather than as a traceback."""

    code = "internal_error"
