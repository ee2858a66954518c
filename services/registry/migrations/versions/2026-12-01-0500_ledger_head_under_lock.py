"""The ledger's append lock and the chain's head in one round trip: lock_ledger_head(key)
takes the transaction-level advisory lock that serialises appends, then reads the newest
record's sequence and chain hash and the catalogue version in force.

A single chain serialises its writers, so every round trip a writer makes while it holds the
lock is one that every other writer waits for. The head cannot be read in the statement that
takes the lock (its snapshot is taken before the lock is granted, and would miss the append
that was holding it); a VOLATILE function's statements each take a snapshot of their own
(READ COMMITTED), so the read inside the function, after the lock, sees the last append.

Revision ID: registry_0012
Revises: registry_0011
Create Date: 2026-12-01 05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0012"
down_revision: str | None = "registry_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"


def upgrade() -> None:
    op.execute(
        f"""CREATE FUNCTION "{SCHEMA}".lock_ledger_head(lock_key bigint,
                OUT head_sequence bigint, OUT head_hash varchar, OUT catalogue_version integer)
            LANGUAGE plpgsql VOLATILE AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(lock_key);
                SELECT r.sequence, r.chain_hash INTO head_sequence, head_hash
                    FROM "{SCHEMA}".ledger_record r ORDER BY r.sequence DESC LIMIT 1;
                SELECT max(c.version) INTO catalogue_version FROM "{SCHEMA}".catalogue_version c;
            END $$"""
    )


def downgrade() -> None:
    op.execute(f'DROP FUNCTION "{SCHEMA}".lock_ledger_head(bigint)')
