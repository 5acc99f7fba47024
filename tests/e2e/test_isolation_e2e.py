"""End-to-end tests commit for real (a server in another thread or process cannot see
a test's transaction) and the tables are emptied after them."""

from __future__ import annotations

from typing import Any

import pytest
from factories import add_person
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def test_an_end_to_end_test_commits_for_real(isolation: str, session: Session, db_engine: Engine) -> None:
    assert isolation == "truncation"
    add_person(session, "TTTT-009")
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT code FROM staff")).scalars().all() == ["TTTT-009"]


@pytest.mark.parametrize("_run", [1, 2])
def test_and_finds_the_tables_empty(_run: int, isolation: str, db_engine: Engine, app: Any) -> None:
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM staff")).scalar_one() == 0
