"""The client's cache on disk: one JSON file per trusted server holding the pinned
root key and the raw signed documents with their ETags and fetch times, plus the
name of the server synced last.

Only raw signed documents are stored, never conclusions: every load verifies them
again from the pinned root down, so a cache edited by hand proves nothing. Writes
go to a temporary file renamed into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from verify.client.errors import CacheError

APP_NAME = "chinhdanh-verify"
FORMAT = 1  # bumped if the layout changes; an older file is then ignored
MAX_STATE_BYTES = 64 * 1024 * 1024  # a state file holds a few documents


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME))


@dataclass
class Cached:
    """A raw document as fetched: the token (or JSON text), its ETag, when."""

    body: str
    etag: str | None
    fetched_at: float

    def as_json(self) -> dict[str, Any]:
        return {"body": self.body, "etag": self.etag, "fetched_at": self.fetched_at}

    @classmethod
    def from_json(cls, value: Any) -> Cached | None:
        if not isinstance(value, dict) or not isinstance(value.get("body"), str):
            return None
        etag = value.get("etag")
        fetched = value.get("fetched_at")
        if not isinstance(fetched, int | float):
            return None
        return cls(body=value["body"], etag=etag if isinstance(etag, str) else None, fetched_at=float(fetched))


@dataclass
class ServerState:
    """Everything cached for one server."""

    server: str
    root_jwk: dict[str, str] | None = None
    root_source: str | None = None  # "trust" (given by the user) or "tofu" (first use)
    keyset: Cached | None = None
    jwks: Cached | None = None
    roster: Cached | None = None
    status_lists: dict[int, Cached] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "server": self.server,
            "root_jwk": self.root_jwk,
            "root_source": self.root_source,
            "keyset": self.keyset.as_json() if self.keyset else None,
            "jwks": self.jwks.as_json() if self.jwks else None,
            "roster": self.roster.as_json() if self.roster else None,
            "status_lists": {str(n): c.as_json() for n, c in sorted(self.status_lists.items())},
        }

    @classmethod
    def from_json(cls, value: Any, server: str) -> ServerState:
        """Whatever is readable of a stored state; anything odd is dropped, never trusted."""
        state = cls(server=server)
        if not isinstance(value, dict) or value.get("format") != FORMAT or value.get("server") != server:
            return state
        root = value.get("root_jwk")
        if isinstance(root, dict) and all(isinstance(v, str) for v in root.values()):
            state.root_jwk = {str(k): str(v) for k, v in root.items()}
            source = value.get("root_source")
            state.root_source = source if source in ("trust", "tofu") else "tofu"
        state.keyset = Cached.from_json(value.get("keyset"))
        state.jwks = Cached.from_json(value.get("jwks"))
        state.roster = Cached.from_json(value.get("roster"))
        lists = value.get("status_lists")
        if isinstance(lists, dict):
            for name, raw in lists.items():
                cached = Cached.from_json(raw)
                if cached is not None and str(name).isdigit():
                    state.status_lists[int(name)] = cached
        return state


class Store:
    """The cache directory. ``root`` defaults to the user's cache directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_cache_dir()

    def _server_file(self, server: str) -> Path:
        digest = hashlib.sha256(server.encode("utf-8")).hexdigest()[:24]
        return self.root / "servers" / f"{digest}.json"

    def _read_json(self, path: Path) -> Any:
        try:
            if path.stat().st_size > MAX_STATE_BYTES:
                return None
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            # an unreadable cache is an empty cache: it is re-fetched and re-verified
            return None

    def _write_json(self, path: Path, value: Any) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except OSError as exc:
            raise CacheError("Cannot write the cache in {path}: {reason}", path=str(path), reason=exc.strerror) from exc
        except ValueError as exc:  # a NUL byte or a lone surrogate in a directory given through the library
            raise CacheError("Cannot write the cache in {path}: {reason}", path=str(path), reason=str(exc)) from exc

    def load(self, server: str) -> ServerState:
        return ServerState.from_json(self._read_json(self._server_file(server)), server)

    def save(self, state: ServerState) -> None:
        self._write_json(self._server_file(state.server), state.as_json())
        self._write_json(self.root / "last_server.json", {"server": state.server})

    def last_server(self) -> str | None:
        value = self._read_json(self.root / "last_server.json")
        server = value.get("server") if isinstance(value, dict) else None
        return server if isinstance(server, str) else None
