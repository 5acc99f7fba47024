"""Per-IP limits kept in Redis when RATELIMIT_STORAGE_URI names it: an application
started afresh (as another gunicorn worker or instance would be) sees the counts the
first one left, where in-memory counts would start again from zero."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import app_config

from app import create_app
from registry.platform.db import dispose_engines

REDIS_URI = "redis://127.0.0.1:6379/0"


@pytest.fixture()
def redis_prefix() -> Iterator[str]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"chinhdanh-test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def _fresh_app(database_url: str, instance: Path, **extra: Any) -> Any:
    return create_app(app_config(database_url, instance, RATELIMIT_ENABLED=True, **extra))


def _lookups(application: Any, count: int, address: str = "10.1.2.3") -> list[int]:
    client = application.test_client()
    return [
        client.get(
            "/api/v1/lookup", query_string={"q": "0999 888 777"}, environ_base={"REMOTE_ADDR": address}
        ).status_code
        for _ in range(count)
    ]


def test_limits_in_redis_outlive_the_process_that_counted_them(
    database_url: str, db_engine: Any, tmp_path: Path, redis_prefix: str
) -> None:
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URI, "RATELIMIT_KEY_PREFIX": redis_prefix}
    first = _fresh_app(database_url, tmp_path / "a", **settings)
    assert _lookups(first, 60) == [200] * 60
    second = _fresh_app(database_url, tmp_path / "b", **settings)
    assert _lookups(second, 1) == [429]
    assert _lookups(second, 1, address="10.9.9.9") == [200]  # per address, not global
    for application in (first, second):
        dispose_engines(application)


def test_in_memory_limits_do_not_outlive_their_process(database_url: str, db_engine: Any, tmp_path: Path) -> None:
    """The control: the same steps without Redis start counting again."""
    first = _fresh_app(database_url, tmp_path / "a", RATELIMIT_STORAGE_URI="memory://")
    assert _lookups(first, 61)[-1] == 429
    second = _fresh_app(database_url, tmp_path / "b", RATELIMIT_STORAGE_URI="memory://")
    assert _lookups(second, 1) == [200]
    for application in (first, second):
        dispose_engines(application)
