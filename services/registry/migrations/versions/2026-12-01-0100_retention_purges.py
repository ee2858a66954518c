"""Retention purges: the ledger chains personal data through a salted digest, so that a
retention purge can remove it without breaking the chain, and records each purge as a
`retention_purge` record (services/registry/retention/).

- New columns: personal_salt and personal_digest on every record; purged_record_ids and
  retention_policy on a retention purge. `reasons` becomes nullable (a purge removes it).
- Content hashes change format (services/registry/ledger/chain.py): personal_digest stands in
  for the personal fields. Every existing record gets a salt, its digest and its new content
  and chain hashes, in sequence order, so the chain verifies after the upgrade. Nothing had
  been deployed with the old format; the signed checkpoints of the old heads could never match
  the new chain, so they are removed (the worker signs the new head at its next start).
- The append-only trigger lets exactly one UPDATE through: the personal columns and the salt
  set to null, nothing else changed, on a record not yet purged, in a transaction that said
  `SET LOCAL registry.retention_purge = 'on'`. DELETE and TRUNCATE stay refused.
- CHECK constraints allow a purged record (personal_salt IS NULL) to lack its personal fields,
  and require that it lack all of them.

Downgrade is refused once a record was purged or a purge recorded: the old format cannot
chain a record without its personal data. Otherwise the old hashes are recomputed.

Revision ID: registry_0007
Revises: registry_0006
Create Date: 2026-12-01 01:00
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# The ledger's own hash functions, so that the hashes written here are the ones verify checks.
# A later change of format must come with a migration of its own that recomputes again.
from services.registry.ledger.chain import (
    ADDED_FIELDS,
    CHAINED_FIELDS,
    GENESIS_HASH,
    canonical_value,
    content_hash,
    link_hash,
    personal_digest,
)

revision: str = "registry_0007"
down_revision: str | None = "registry_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"
LEDGER = "ledger_record"
PERSONAL = (
    "employee_ref",
    "employee_name",
    "reasons",
    "account_handle",
    "account_url",
    "purpose",
    "moderators",
)
KINDS_V5 = (
    "'violation', 'cleared_finding', 'correction', 'sanction_event', 'permission', "
    "'official_account', 'appeal_outcome', 'retention_purge'"
)
KINDS_V4 = (
    "'violation', 'cleared_finding', 'correction', 'sanction_event', 'permission', "
    "'official_account', 'appeal_outcome'"
)
# (name, condition after, condition before) of the checks a purge touches.
REPLACED_CHECKS: tuple[tuple[str, str, str], ...] = (
    (
        "ck_ledger_record_record_kind",
        f"record_kind IN ({KINDS_V5})",
        f"record_kind IN ({KINDS_V4})",
    ),
    (
        "ck_ledger_record_determination_complete",
        "record_kind IN ('sanction_event', 'permission', 'official_account', 'retention_purge') "
        "OR ((personal_salt IS NULL OR (employee_ref IS NOT NULL AND employee_name IS NOT NULL)) "
        "AND rules_cited IS NOT NULL AND platform IS NOT NULL AND determined_by IS NOT NULL AND "
        "reported_at IS NOT NULL)",
        "record_kind IN ('sanction_event', 'permission', 'official_account') OR "
        "(employee_ref IS NOT NULL AND employee_name "
        "IS NOT NULL AND rules_cited IS NOT NULL AND platform IS NOT NULL AND determined_by "
        "IS NOT NULL AND reported_at IS NOT NULL)",
    ),
    (
        "ck_ledger_record_permission_complete",
        "record_kind NOT IN ('permission', 'official_account') OR (decision IS NOT NULL AND "
        "platform IS NOT NULL AND (personal_salt IS NULL OR (account_handle IS NOT NULL AND "
        "purpose IS NOT NULL)) AND conditions IS NOT NULL AND determined_by IS NOT NULL AND "
        "decided_at IS NOT NULL)",
        "record_kind NOT IN ('permission', 'official_account') OR (decision IS NOT NULL AND "
        "platform IS NOT NULL AND account_handle IS NOT NULL AND purpose IS NOT NULL AND "
        "conditions IS NOT NULL AND determined_by IS NOT NULL AND decided_at IS NOT NULL)",
    ),
    (
        "ck_ledger_record_permission_names_employee",
        "record_kind <> 'permission' OR personal_salt IS NULL OR (employee_ref IS NOT NULL AND "
        "employee_name IS NOT NULL)",
        "record_kind <> 'permission' OR (employee_ref IS NOT NULL AND employee_name IS NOT NULL)",
    ),
    (
        "ck_ledger_record_official_account_names_moderators",
        "record_kind <> 'official_account' OR personal_salt IS NULL OR moderators IS NOT NULL",
        "record_kind <> 'official_account' OR moderators IS NOT NULL",
    ),
)
NEW_CHECKS: tuple[tuple[str, str], ...] = (
    ("ck_ledger_record_reasons_given", "reasons IS NOT NULL OR personal_salt IS NULL"),
    (
        "ck_ledger_record_purged_whole",
        "personal_salt IS NOT NULL OR (" + " AND ".join(f"{c} IS NULL" for c in PERSONAL) + ")",
    ),
    (
        "ck_ledger_record_retention_purge_complete",
        "(record_kind = 'retention_purge') = (purged_record_ids IS NOT NULL) AND "
        "(record_kind <> 'retention_purge' OR retention_policy IS NOT NULL)",
    ),
)
PERSONAL_ARRAY = "ARRAY[" + ", ".join(f"'{c}'" for c in (*PERSONAL, "personal_salt")) + "]"
GUARD = f"""CREATE FUNCTION "{SCHEMA}".guard_ledger_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The one change a record may take: a retention purge, asked for by the transaction,
    -- that sets the personal columns and the salt to null and leaves every other column as
    -- it was, on a record not purged before.
    IF TG_OP = 'UPDATE'
        AND current_setting('registry.retention_purge', true) = 'on'
        AND OLD.personal_salt IS NOT NULL
        AND NEW.personal_salt IS NULL
        AND {" AND ".join(f"NEW.{c} IS NULL" for c in PERSONAL)}
        AND to_jsonb(NEW) - {PERSONAL_ARRAY}::text[] = to_jsonb(OLD) - {PERSONAL_ARRAY}::text[]
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{SCHEMA}.{LEDGER} is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Append a record that supersedes the old one; personal data leaves only '
                     'through a retention purge.';
END $$"""


def replace_check(name: str, condition: str) -> None:
    op.drop_constraint(op.f(name), LEDGER, schema=SCHEMA, type_="check")
    op.create_check_constraint(op.f(name), LEDGER, condition, schema=SCHEMA)


def records() -> list[dict[str, Any]]:
    rows = (
        op.get_bind()
        .execute(sa.text(f"SELECT * FROM {SCHEMA}.{LEDGER} ORDER BY sequence"))
        .mappings()
    )
    return [dict(row) for row in rows]


def rewrite_hashes(updates: list[dict[str, Any]], *, with_personal: bool) -> None:
    if not updates:
        return
    personal = "personal_salt = :personal_salt, personal_digest = :personal_digest, "
    op.get_bind().execute(
        sa.text(
            f"UPDATE {SCHEMA}.{LEDGER} SET {personal if with_personal else ''}"
            "content_hash = :content_hash, previous_hash = :previous_hash, "
            "chain_hash = :chain_hash WHERE id = :id"
        ),
        updates,
    )


def forget_checkpoints() -> None:
    """The signed heads of a chain whose hashes just changed can never match it again."""
    op.execute(f"ALTER TABLE {SCHEMA}.ledger_checkpoint DISABLE TRIGGER USER")
    op.execute(f"DELETE FROM {SCHEMA}.ledger_checkpoint")
    op.execute(f"ALTER TABLE {SCHEMA}.ledger_checkpoint ENABLE TRIGGER USER")


def upgrade() -> None:
    op.execute(f'DROP TRIGGER ledger_record_append_only ON "{SCHEMA}".{LEDGER}')
    op.add_column(LEDGER, sa.Column("personal_salt", sa.String(32)), schema=SCHEMA)
    op.add_column(LEDGER, sa.Column("personal_digest", sa.String(64)), schema=SCHEMA)
    op.add_column(
        LEDGER, sa.Column("purged_record_ids", postgresql.ARRAY(sa.Uuid())), schema=SCHEMA
    )
    op.add_column(LEDGER, sa.Column("retention_policy", postgresql.JSONB()), schema=SCHEMA)
    op.alter_column(LEDGER, "reasons", nullable=True, schema=SCHEMA)
    for name, after, _ in REPLACED_CHECKS:
        replace_check(name, after)

    updates: list[dict[str, Any]] = []
    previous = GENESIS_HASH
    for record in records():
        record["personal_salt"] = secrets.token_hex(16)
        record["personal_digest"] = personal_digest(record)
        digest = content_hash(record)
        chain = link_hash(previous_hash=previous, content_hash=digest)
        updates.append(
            {
                "id": record["id"],
                "personal_salt": record["personal_salt"],
                "personal_digest": record["personal_digest"],
                "content_hash": digest,
                "previous_hash": previous,
                "chain_hash": chain,
            }
        )
        previous = chain
    rewrite_hashes(updates, with_personal=True)
    forget_checkpoints()
    op.alter_column(LEDGER, "personal_digest", nullable=False, schema=SCHEMA)
    for name, condition in NEW_CHECKS:
        op.create_check_constraint(op.f(name), LEDGER, condition, schema=SCHEMA)
    op.execute(GUARD)
    op.execute(
        f"""CREATE TRIGGER ledger_record_append_only BEFORE UPDATE OR DELETE
            ON "{SCHEMA}".{LEDGER}
            FOR EACH ROW EXECUTE FUNCTION "{SCHEMA}".guard_ledger_change()"""
    )


def old_content_hash(record: dict[str, Any]) -> str:
    """registry_0006's content hash: every chained field itself, added fields when set."""
    content = {name: canonical_value(record[name]) for name in CHAINED_FIELDS}
    for name in ADDED_FIELDS:
        if name in {"purged_record_ids", "retention_policy"}:
            continue
        if record.get(name) is not None:
            content[name] = canonical_value(record[name])
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
    return hashlib.sha256(canonical).hexdigest()


def downgrade() -> None:
    held = op.get_bind().scalar(
        sa.text(
            f"SELECT count(*) FROM {SCHEMA}.{LEDGER} "
            "WHERE personal_salt IS NULL OR record_kind = 'retention_purge'"
        )
    )
    if held:
        raise RuntimeError(
            f"The ledger holds {held} purged records or retention purges; registry_0006 cannot "
            "chain a record without its personal data. Downgrade refused."
        )
    op.execute(f'DROP TRIGGER ledger_record_append_only ON "{SCHEMA}".{LEDGER}')
    op.execute(f'DROP FUNCTION "{SCHEMA}".guard_ledger_change()')
    updates: list[dict[str, Any]] = []
    previous = GENESIS_HASH
    for record in records():
        digest = old_content_hash(record)
        chain = link_hash(previous_hash=previous, content_hash=digest)
        updates.append(
            {
                "id": record["id"],
                "content_hash": digest,
                "previous_hash": previous,
                "chain_hash": chain,
            }
        )
        previous = chain
    rewrite_hashes(updates, with_personal=False)
    forget_checkpoints()
    for name, _ in reversed(NEW_CHECKS):
        op.drop_constraint(op.f(name), LEDGER, schema=SCHEMA, type_="check")
    for name, _, before in REPLACED_CHECKS:
        replace_check(name, before)
    op.alter_column(LEDGER, "reasons", nullable=False, schema=SCHEMA)
    for column in ("retention_policy", "purged_record_ids", "personal_digest", "personal_salt"):
        op.drop_column(LEDGER, column, schema=SCHEMA)
    op.execute(
        f"""CREATE TRIGGER ledger_record_append_only BEFORE UPDATE OR DELETE
            ON "{SCHEMA}".{LEDGER}
            FOR EACH ROW EXECUTE FUNCTION "{SCHEMA}".refuse_ledger_change()"""
    )
