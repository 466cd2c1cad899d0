"""Alembic environment for the Beatplan store: ``geo.store.metadata`` on the store's connection."""

from __future__ import annotations

import logging.config

import sqlalchemy as sa
from alembic import context

from geo.store import default_db_url, lock_for_migration, metadata

config = context.config
if config.config_file_name is not None and not config.attributes.get("connection"):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move instead
        compare_type=True,
        **kwargs,
    )


def run_offline() -> None:
    """Write the SQL of the migrations to stdout (``alembic upgrade head --sql``)."""
    url = config.get_main_option("sqlalchemy.url") or default_db_url()
    _configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate on the connection ``Store`` passes in, or on ``$BEATPLAN_DB`` from the CLI."""
    conn = config.attributes.get("connection")
    if conn is not None:  # Store holds the migration lock and commits
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or default_db_url())
    with engine.connect() as conn:
        lock_for_migration(conn)
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
