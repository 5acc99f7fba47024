"""Each test's isolation (tests/fixtures/database.py): unit and service tests run in
one outer transaction that is rolled back, their commits being savepoints; what they
write is seen by their own requests and commands and by no other connection."""

from __future__ import annotations

from typing import Any

from factories import add_person
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from registry.platform.db import ENGINE


def _staff_rows_elsewhere(app: Any) -> int:
    """Staff rows as another connection sees them (the app's own engine, unused here)."""
    with app.extensions[ENGINE].connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM staff")).scalar_one())


def test_a_service_test_commits_into_a_savepoint_of_its_own_transaction(
    isolation: str, app: Any, session: Session, _test_connection: Connection
) -> None:
    assert isolation == "rollback"
    assert session.get_bind() is _test_connection
    add_person(session, "TTTT-001")  # commits
    assert session.execute(text("SELECT count(*) FROM staff")).scalar_one() == 1
    assert _staff_rows_elsewhere(app) == 0  # another connection: nothing committed
    assert _test_connection.in_transaction()


def test_a_requests_commit_is_seen_by_the_test_and_undone_after(
    isolation: str, app: Any, session: Session, runner: Any
) -> None:
    assert isolation == "rollback"
    add = ["staff", "add", "--code", "TTTT-002", "--name", "Lê Thị Hoa", "--title", "T", "--unit", "U"]
    assert runner.invoke(args=add).exit_code == 0  # the command commits
    assert session.execute(text("SELECT code FROM staff")).scalars().all() == ["TTTT-002"]
    assert _staff_rows_elsewhere(app) == 0


def test_a_failed_write_in_a_request_leaves_the_outer_transaction_usable(
    session: Session, client: Any, runner: Any
) -> None:
    add = ["staff", "add", "--code", "TTTT-003", "--name", "A", "--title", "T", "--unit", "U"]
    assert runner.invoke(args=add).exit_code == 0
    again = runner.invoke(args=add)  # the same code: refused, its savepoint rolled back
    assert again.exit_code != 0
    assert session.execute(text("SELECT count(*) FROM staff")).scalar_one() == 1
