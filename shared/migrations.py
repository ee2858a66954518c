"""Alembic support shared by the three services: each keeps its own migrations folder and its
version table inside its own schema; this module runs them and creates the messaging tables
(outbox, inbox, dead letters) that every schema has.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.messages import SERVICES, Service
from shared.outbox import outbox_channel
from shared.settings import to_asyncpg_url

SERVICES_ROOT = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: Service, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_ROOT / service / "migrations"))
    config.set_main_option("sqlalchemy.url", to_asyncpg_url(database_url))
    config.set_main_option("service", service)
    return config


def upgrade(service: Service, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def upgrade_all(database_url: str) -> None:
    for service in SERVICES:
        upgrade(service, database_url)


def run_migrations(*, schema: str, target_metadata: MetaData) -> None:
    """Body of each service's migrations/env.py (online mode, asyncpg)."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "sqlalchemy.url is set by alembic_config()"

    def migrate(connection: Connection) -> None:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.begin() as connection:
            # Serialise concurrent migrators (several replicas starting at once).
            await connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": schema}
            )
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())


def create_messaging_tables(schema: str) -> None:
    """The outbox, inbox and dead-letter tables of one schema, and the outbox's NOTIFY trigger."""
    op.create_table(
        "outbox_message",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(16), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("envelope", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("send_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("message_id", "destination", name="pk_outbox_message"),
        schema=schema,
    )
    op.create_index(
        "ix_outbox_message_unsent",
        "outbox_message",
        ["created_at"],
        schema=schema,
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_index(
        "ix_outbox_message_unacknowledged",
        "outbox_message",
        ["sent_at"],
        schema=schema,
        postgresql_where=sa.text("sent_at IS NOT NULL AND acknowledged_at IS NULL"),
    )
    # One notification per committed statement wakes the relay without polling.
    op.execute(
        f"""CREATE FUNCTION "{schema}".notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{outbox_channel(schema)}', '');
            RETURN NULL;
        END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER outbox_message_notify AFTER INSERT ON "{schema}".outbox_message
            FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".notify_outbox()"""
    )
    op.create_table(
        "inbox_message",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_inbox_message"),
        schema=schema,
    )
    op.create_table(
        "dead_letter",
        sa.Column("job_id", sa.String(128), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("envelope", postgresql.JSONB()),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "failed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("replayed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("job_id", name="pk_dead_letter"),
        schema=schema,
    )


def drop_messaging_tables(schema: str) -> None:
    op.drop_table("dead_letter", schema=schema)
    op.drop_table("inbox_message", schema=schema)
    op.execute(f'DROP TRIGGER outbox_message_notify ON "{schema}".outbox_message')
    op.execute(f'DROP FUNCTION "{schema}".notify_outbox()')
    op.drop_table("outbox_message", schema=schema)


def create_rules_replica_table(schema: str) -> None:
    """The local replica of registry's rules catalogue (shared.catalogue_replica)."""
    op.create_table(
        "rule_reference",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("reply_window_working_days", sa.Integer(), nullable=False),
        sa.Column("catalogue_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_rule_reference"),
        schema=schema,
    )
