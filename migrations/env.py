"""Alembic environment: the URL comes from the app's configuration (``flask db
upgrade``) or from ``-x url=…``; the metadata from every model module."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from app import load_models
from registry.platform.db import make_engine

config = context.config
target_metadata = load_models()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: run through `flask --app app db upgrade`")
    return url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url(), poolclass=pool.NullPool) if not _url().startswith("sqlite") else make_engine(_url())
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A batch migration rebuilds a table (copy, drop, rename): with foreign keys on,
            # dropping one that other rows reference fails. Off for the migration only, as
            # SQLite's own ALTER TABLE procedure says; set before any transaction begins.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the transaction the statement began: the migrations run in their own
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
