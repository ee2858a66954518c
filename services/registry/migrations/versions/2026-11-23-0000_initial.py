"""registry's first tables: the rules catalogue (version 1, published to intake and review
through the outbox), reader credentials, and the append-only, hash-chained ledger.

Revision ID: registry_0001
Revises:
Create Date: 2026-11-23 00:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "registry_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"

# The catalogue as published in this migration; frozen here on purpose, so a fresh database
# always gets version 1 exactly as it was, whatever later code does.
CONDUCT_1964 = "Government Servants (Conduct) Rules 1964"
CONDUCT_1987 = "Government Servants (Conduct) Rules 1987 (provincial)"
NOTIFICATION = "Federal notification of 25 August on the use of social media"
RULES_V1: tuple[tuple[str, str, str, str], ...] = (
    (
        "CR1964-18",
        "Communication of official information",
        CONDUCT_1964,
        "Rule 18: no government servant shall, except in accordance with a special or general "
        "order of the government, communicate directly or indirectly any official document or "
        "information to a government servant not authorised to receive it, to a non-official "
        "person, or to the press.",
    ),
    (
        "CR1964-22",
        "Statements embarrassing the government",
        CONDUCT_1964,
        "Rule 22: no government servant shall, in any document published or any public "
        "utterance or broadcast, make any statement of fact or opinion capable of embarrassing "
        "the government.",
    ),
    (
        "CR1987-18",
        "Communication of official information (provincial)",
        CONDUCT_1987,
        "Rule 18 of the provincial rules: the duty of rule 18 of the 1964 rules, for servants "
        "of the province: no official document or information to unauthorised persons or the "
        "press.",
    ),
    (
        "CR1987-22",
        "Statements embarrassing the government (provincial)",
        CONDUCT_1987,
        "Rule 22 of the provincial rules: the duty of rule 22 of the 1964 rules, for servants "
        "of the province: no statement of fact or opinion capable of embarrassing the "
        "government.",
    ),
    (
        "NOTIF-USE-WITHOUT-PERMISSION",
        "Use of social media without permission",
        NOTIFICATION,
        "Government servants shall not use Facebook, X, WhatsApp, Instagram or other social "
        "media platforms except with the government's permission. A breach is misconduct under "
        "the Civil Servants (Efficiency and Discipline) Rules 2020.",
    ),
    (
        "NOTIF-POLITICAL-SECTARIAN",
        "Political or sectarian views",
        NOTIFICATION,
        "Government servants shall not express political or sectarian views on social media.",
    ),
    (
        "NOTIF-MISLEADING-INFORMATION",
        "Wrong or misleading information",
        NOTIFICATION,
        "Government servants shall not spread wrong or misleading information on social media.",
    ),
    (
        "NOTIF-GROUP-ADMINISTRATOR",
        "Liability of a group administrator",
        NOTIFICATION,
        "The administrator of a social media group in which a violation is committed faces "
        "proceedings as well as its author.",
    ),
)
REPLY_WINDOW_WORKING_DAYS = 14

# catalogue.rules_published for version 1 goes to these consumers, one outbox row each.
CATALOGUE_CONSUMERS = ("intake", "review")


def catalogue_envelope() -> dict[str, object]:
    """The envelope as shared.messages.Envelope serialises it (mode="json").

    The message id is new for each database: arq refuses a job id whose result it still holds,
    and job ids derive from message ids, so a fixed id would not be delivered to a database
    created again (or a second stack) on a Redis that has seen it.
    """
    occurred_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {
        "message_id": str(uuid.uuid4()),
        "type": "catalogue.rules_published",
        "version": 1,
        "occurred_at": occurred_at,
        "correlation_id": "migration-registry_0001",
        "producer": "registry",
        "payload": {
            "catalogue_version": 1,
            "rules": [
                {
                    "code": code,
                    "title": title,
                    "reply_window_working_days": REPLY_WINDOW_WORKING_DAYS,
                }
                for code, title, _, _ in RULES_V1
            ],
        },
    }


def _created_at(name: str = "created_at") -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    create_messaging_tables(SCHEMA)
    op.create_table(
        "catalogue_version",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        _created_at("published_at"),
        sa.Column("note", sa.Text(), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "rule",
        sa.Column(
            "catalogue_version",
            sa.Integer(),
            sa.ForeignKey(f"{SCHEMA}.catalogue_version.version"),
            primary_key=True,
        ),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("clause", sa.Text(), nullable=False),
        sa.Column("reply_window_working_days", sa.Integer(), server_default="14", nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "reader_credential",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("organisation_code", sa.String(64)),
        _created_at(),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("role IN ('auditor', 'dashboard', 'competent_authority')", name="role"),
        schema=SCHEMA,
    )
    create_ledger()
    publish_catalogue_v1()


def create_ledger() -> None:
    op.create_table(
        "ledger_record",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("sequence", sa.BigInteger(), nullable=False, unique=True),
        sa.Column("record_kind", sa.String(32), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), sa.ForeignKey(f"{SCHEMA}.ledger_record.id")),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("employee_ref", sa.String(64), nullable=False),
        sa.Column("employee_name", sa.String(200), nullable=False),
        sa.Column("rules_cited", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("determined_by", sa.Uuid(), nullable=False),
        sa.Column("countersigned_by", sa.Uuid()),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("catalogue_version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.CheckConstraint("record_kind IN ('violation', 'cleared_finding')", name="record_kind"),
        sa.CheckConstraint("sequence >= 1", name="sequence_positive"),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_ledger_record_case_id_record_kind",
        "ledger_record",
        ["case_id", "record_kind"],
        unique=True,
        schema=SCHEMA,
        postgresql_where=sa.text("supersedes_id IS NULL"),
    )
    op.create_index(
        "ix_ledger_record_department_sequence",
        "ledger_record",
        ["department", "sequence"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_ledger_record_rules_cited",
        "ledger_record",
        ["rules_cited"],
        schema=SCHEMA,
        postgresql_using="gin",
    )
    # Append-only, enforced by the database itself: no UPDATE, DELETE or TRUNCATE, whoever
    # asks. A correction is a new record that supersedes the old one.
    op.execute(
        f"""CREATE FUNCTION "{SCHEMA}".refuse_ledger_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{SCHEMA}.ledger_record is append-only: % refused', TG_OP
                USING ERRCODE = 'restrict_violation',
                      HINT = 'Append a record that supersedes the old one.';
        END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER ledger_record_append_only BEFORE UPDATE OR DELETE
            ON "{SCHEMA}".ledger_record
            FOR EACH ROW EXECUTE FUNCTION "{SCHEMA}".refuse_ledger_change()"""
    )
    op.execute(
        f"""CREATE TRIGGER ledger_record_no_truncate BEFORE TRUNCATE
            ON "{SCHEMA}".ledger_record
            FOR EACH STATEMENT EXECUTE FUNCTION "{SCHEMA}".refuse_ledger_change()"""
    )


def publish_catalogue_v1() -> None:
    op.bulk_insert(
        sa.table(
            "catalogue_version",
            sa.column("version", sa.Integer()),
            sa.column("note", sa.Text()),
            schema=SCHEMA,
        ),
        [
            {
                "version": 1,
                "note": "Initial catalogue: Conduct Rules 1964 and 1987, rules 18 and 22; the "
                "federal notification's instructions.",
            }
        ],
    )
    op.bulk_insert(
        sa.table(
            "rule",
            sa.column("catalogue_version", sa.Integer()),
            sa.column("code", sa.String()),
            sa.column("title", sa.String()),
            sa.column("source", sa.String()),
            sa.column("clause", sa.Text()),
            sa.column("reply_window_working_days", sa.Integer()),
            schema=SCHEMA,
        ),
        [
            {
                "catalogue_version": 1,
                "code": code,
                "title": title,
                "source": source,
                "clause": clause,
                "reply_window_working_days": REPLY_WINDOW_WORKING_DAYS,
            }
            for code, title, source, clause in RULES_V1
        ],
    )
    envelope = catalogue_envelope()
    op.bulk_insert(
        sa.table(
            "outbox_message",
            sa.column("message_id", sa.Uuid()),
            sa.column("destination", sa.String()),
            sa.column("message_type", sa.String()),
            sa.column("envelope", postgresql.JSONB()),
            schema=SCHEMA,
        ),
        [
            {
                "message_id": uuid.UUID(str(envelope["message_id"])),
                "destination": destination,
                "message_type": envelope["type"],
                "envelope": envelope,
            }
            for destination in CATALOGUE_CONSUMERS
        ],
    )


def downgrade() -> None:
    op.drop_table("ledger_record", schema=SCHEMA)
    op.execute(f'DROP FUNCTION "{SCHEMA}".refuse_ledger_change()')
    op.drop_table("reader_credential", schema=SCHEMA)
    op.drop_table("rule", schema=SCHEMA)
    op.drop_table("catalogue_version", schema=SCHEMA)
    drop_messaging_tables(SCHEMA)
