"""A ledger of realistic volume for the registry's benchmark figures (R1, R2, R3, B3).

    summary = await seed_ledger(database_url, 1_000_000)

appends `count` records after the ledger's current head, in one transaction under the
ledger's own append lock (so a registry worker appending at the same time waits, and the chain
stays linear), loaded by COPY. The records are what years of a province's work would leave:
violations and cleared findings across many departments, rules, platforms, months and
employees; corrections and appeal outcomes that supersede them; sanctions imposed after the
appeal window and then spent, stayed, varied, quashed or expunged; personal permissions and
official accounts, some renewed. Each record's content and chain hashes come from the ledger's
own functions (services/registry/ledger/chain.py), so GET /v1/audit/verify passes over them.

The same `seed` gives the same records (ids included) on an empty ledger. recorded_at rises
with the sequence across the seeded records, spread over `years` up to the moment of seeding;
records already in the ledger (a few from other figures) keep theirs.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.registry.ledger.chain import (
    ADDED_FIELDS,
    CANONICAL_VERSION,
    CHAINED_FIELDS,
    GENESIS_HASH,
    content_hash,
    link_hash,
    new_personal_salt,
    personal_digest,
)
from services.registry.ledger.service import LEDGER_LOCK_KEY
from shared.settings import to_plain_url

COLUMNS: tuple[str, ...] = (
    *CHAINED_FIELDS,
    *ADDED_FIELDS,
    "canonical_version",
    "personal_salt",
    "personal_digest",
    "content_hash",
    "previous_hash",
    "chain_hash",
)
DEPARTMENTS: tuple[str, ...] = tuple(
    [
        "HEALTH",
        "EDUCATION",
        "FINANCE",
        "POLICE",
        "REVENUE",
        "AGRICULTURE",
        "IRRIGATION",
        "LOCAL-GOVT",
        "HOME",
        "LABOUR",
        "FORESTRY",
        "TRANSPORT",
        "EXCISE",
        "INFORMATION",
        "JAIL",
        "FOOD",
        "LIVESTOCK",
        "ENERGY",
        "MINES",
        "WORKS",
    ]
    + [f"MTI-{n:02d}" for n in range(1, 12)]
    + [f"DHO-{n:02d}" for n in range(1, 15)]
)
RULE_SETS: tuple[tuple[str, ...], ...] = (
    ("CR1964-22",),
    ("CR1964-18",),
    ("CR1987-22",),
    ("CR1987-18",),
    ("NOTIF-USE-WITHOUT-PERMISSION",),
    ("NOTIF-POLITICAL-SECTARIAN",),
    ("NOTIF-MISLEADING-INFORMATION",),
    ("NOTIF-GROUP-ADMINISTRATOR",),
    ("CR1964-18", "CR1964-22"),
    ("CR1964-22", "NOTIF-POLITICAL-SECTARIAN"),
    ("CR1987-22", "NOTIF-MISLEADING-INFORMATION"),
    ("NOTIF-GROUP-ADMINISTRATOR", "NOTIF-POLITICAL-SECTARIAN"),
)
# Weights: rule 22 and political views are the common findings, group administrators rare.
RULE_WEIGHTS: tuple[int, ...] = (30, 12, 14, 6, 10, 12, 8, 2, 3, 4, 2, 1)
PLATFORMS: tuple[str, ...] = (
    "facebook",
    "x",
    "whatsapp",
    "instagram",
    "tiktok",
    "youtube",
    "other",
)
PLATFORM_WEIGHTS: tuple[int, ...] = (40, 20, 18, 10, 6, 4, 2)
PENALTIES: tuple[tuple[str, bool], ...] = (
    ("ED2020-CENSURE", False),
    ("ED2020-WITHHOLD-PROMOTION", True),
    ("ED2020-WITHHOLD-INCREMENT", True),
    ("ED2020-RECOVERY", False),
    ("ED2020-REDUCTION", False),
    ("ED2020-COMPULSORY-RETIREMENT", False),
    ("ED2020-REMOVAL", False),
    ("ED2020-DISMISSAL", False),
)
PENALTY_WEIGHTS: tuple[int, ...] = (40, 15, 20, 8, 8, 3, 3, 3)
SURNAMES: tuple[str, ...] = (
    "Khan",
    "Ahmed",
    "Yousaf",
    "Malik",
    "Qureshi",
    "Siddiqui",
    "Baig",
    "Chaudhry",
    "Shah",
    "Butt",
    "Raza",
    "Iqbal",
)
GIVEN_NAMES: tuple[str, ...] = (
    "Kamran",
    "Ayesha",
    "Bilal",
    "Sana",
    "Imran",
    "Farah",
    "Usman",
    "Hina",
    "Tariq",
    "Nadia",
    "Asad",
    "Rabia",
)
APPEAL_WINDOW_DAYS = 30
# Employees per department: enough that most have one record and some have several.
EMPLOYEES_PER_DEPARTMENT = 20_000


# What the stream keeps of a record it may follow up later (a violation version, a permission):
# a few columns, not the whole record, so that memory stays modest over a million records.
FOLLOWED_UP = (
    "id",
    "case_id",
    "submission_id",
    "department",
    "employee_ref",
    "employee_name",
    "rules_cited",
    "platform",
    "effective_on",
    "reported_at",
)
RENEWED = (
    "id",
    "record_kind",
    "department",
    "platform",
    "employee_ref",
    "employee_name",
    "account_handle",
)


def _kept(record: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: record[name] for name in names}


@dataclass(frozen=True)
class SeededLedger:
    """What seed_ledger appended: sequences first..last inclusive, and the new head."""

    first_sequence: int
    last_sequence: int
    head_hash: str
    kinds: dict[str, int]
    seconds: float


@dataclass
class _Violation:
    """A current violation version the stream can follow up (sanction, correction, appeal)."""

    columns: dict[str, Any]
    sanctions: list[tuple[uuid.UUID, str, int]] = field(default_factory=list)
    orders: int = 0
    appealed: bool = False


class _Stream:
    """Generates the records in chain order, each a dict of every chained column."""

    def __init__(
        self,
        *,
        seed: int,
        count: int,
        start: datetime,
        end: datetime,
        departments: tuple[str, ...] = DEPARTMENTS,
        canonical_version: int = CANONICAL_VERSION,
    ) -> None:
        self.rng = random.Random(seed)
        self.canonical_version = canonical_version
        self.departments = departments
        self.count = count
        self.start = start
        self.step = (end - start) / max(count, 1)
        self.violations: list[_Violation] = []
        self.permissions: list[dict[str, Any]] = []
        self.case_number = 0

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def employee(self, department: str) -> tuple[str, str]:
        number = self.rng.randrange(EMPLOYEES_PER_DEPARTMENT)
        given = GIVEN_NAMES[number % len(GIVEN_NAMES)]
        surname = SURNAMES[(number // len(GIVEN_NAMES)) % len(SURNAMES)]
        return f"{department}-EMP-{number:05d}", f"{given} {surname}"

    def records(self) -> Iterator[dict[str, Any]]:
        for index in range(self.count):
            recorded_at = self.start + self.step * index
            roll = self.rng.random()
            record: dict[str, Any] | None = None
            if roll < 0.20:
                record = self.sanction_event(recorded_at)
            elif roll < 0.25:
                record = self.correction(recorded_at)
            elif roll < 0.29:
                record = self.appeal_outcome(recorded_at)
            elif roll < 0.37:
                record = self.permission(recorded_at)
            yield record or self.determination(recorded_at)

    def blank(self, *, kind: str, recorded_at: datetime, **columns: Any) -> dict[str, Any]:
        return {
            **dict.fromkeys(COLUMNS),
            "id": self.uuid(),
            "canonical_version": self.canonical_version,
            "record_kind": kind,
            "recorded_at": recorded_at,
            **columns,
        }

    def determination(self, recorded_at: datetime) -> dict[str, Any]:
        rng = self.rng
        departments = self.departments
        department = departments[min(int(rng.paretovariate(1.2)) - 1, len(departments) - 1)]
        if rng.random() < 0.6:
            department = rng.choice(departments)
        employee_ref, employee_name = self.employee(department)
        kind = "violation" if rng.random() < 0.8 else "cleared_finding"
        effective_on = (recorded_at - timedelta(days=rng.randrange(0, 6))).date()
        reported_at = recorded_at - timedelta(seconds=rng.randrange(3 * 86400, 150 * 86400))
        rules = list(rng.choices(RULE_SETS, RULE_WEIGHTS)[0])
        platform = rng.choices(PLATFORMS, PLATFORM_WEIGHTS)[0]
        self.case_number += 1
        record = self.blank(
            kind=kind,
            recorded_at=recorded_at,
            case_id=self.uuid(),
            submission_id=self.uuid(),
            department=department,
            employee_ref=employee_ref,
            employee_name=employee_name,
            rules_cited=rules,
            platform=platform,
            reasons=(
                f"Case {self.case_number}: the {platform} post of {effective_on:%d %B %Y} "
                + (
                    f"breaches {' and '.join(rules)}; the reply did not answer the charge."
                    if kind == "violation"
                    else "does not breach the rules cited; the allegation is not made out."
                )
            ),
            determined_by=self.uuid(),
            countersigned_by=self.uuid() if kind == "violation" else None,
            effective_on=effective_on,
            reported_at=reported_at,
        )
        if kind == "violation":
            self.violations.append(_Violation(columns=_kept(record, FOLLOWED_UP)))
        return record

    def pick_violation(self) -> tuple[int, _Violation] | None:
        if not self.violations:
            return None
        position = self.rng.randrange(len(self.violations))
        return position, self.violations[position]

    def retire(self, position: int) -> None:
        """The violation version at position is no longer current: drop it from the pool."""
        self.violations[position] = self.violations[-1]
        self.violations.pop()

    def finding_columns(self, version: dict[str, Any]) -> dict[str, Any]:
        return {
            name: version[name]
            for name in (
                "case_id",
                "submission_id",
                "department",
                "employee_ref",
                "employee_name",
                "rules_cited",
                "platform",
                "effective_on",
                "reported_at",
            )
        }

    def correction(self, recorded_at: datetime) -> dict[str, Any] | None:
        picked = self.pick_violation()
        if picked is None or picked[1].sanctions:
            return None
        position, violation = picked
        previous = violation.columns
        columns = self.finding_columns(previous)
        if self.rng.random() < 0.5:
            columns["rules_cited"] = list(self.rng.choices(RULE_SETS, RULE_WEIGHTS)[0])
        else:
            columns["platform"] = self.rng.choices(PLATFORMS, PLATFORM_WEIGHTS)[0]
        record = self.blank(
            kind="correction",
            recorded_at=recorded_at,
            supersedes_id=previous["id"],
            reasons="Corrected: the finding misstated "
            + ("the rules cited." if columns["rules_cited"] != previous["rules_cited"] else "")
            + ("the platform." if columns["platform"] != previous["platform"] else ""),
            determined_by=self.uuid(),
            **columns,
        )
        self.violations[position] = _Violation(
            columns=_kept(record, FOLLOWED_UP), appealed=violation.appealed
        )
        return record

    def appeal_outcome(self, recorded_at: datetime) -> dict[str, Any] | None:
        picked = self.pick_violation()
        if picked is None or picked[1].appealed:
            return None
        position, violation = picked
        version = violation.columns
        outcome = self.rng.choices(("upheld", "modified", "set_aside"), (60, 15, 25))[0]
        columns = self.finding_columns(version)
        if outcome == "modified":
            columns["rules_cited"] = list(self.rng.choices(RULE_SETS, RULE_WEIGHTS)[0])
        record = self.blank(
            kind="appeal_outcome",
            recorded_at=recorded_at,
            appeal_outcome=outcome,
            violation_id=version["id"],
            supersedes_id=None if outcome == "upheld" else version["id"],
            reasons=f"Appeal {outcome.replace('_', ' ')}: the appellate authority's order.",
            determined_by=self.uuid(),
            decided_at=recorded_at - timedelta(hours=self.rng.randrange(1, 72)),
            **columns,
        )
        # One appeal per case, whatever it decided.
        if outcome == "set_aside":
            self.retire(position)
        elif outcome == "modified":
            self.violations[position] = _Violation(
                columns=_kept(record, FOLLOWED_UP), appealed=True
            )
        else:
            violation.appealed = True
        return record

    def sanction_event(self, recorded_at: datetime) -> dict[str, Any] | None:
        picked = self.pick_violation()
        if picked is None:
            return None
        _, violation = picked
        version = violation.columns
        order_date = recorded_at.date()
        if order_date <= version["effective_on"] + timedelta(days=APPEAL_WINDOW_DAYS):
            return None
        rng = self.rng
        event, sanction_id, penalty, period = "imposed", None, None, None
        open_sanctions = [s for s in violation.sanctions if s[1] not in ("expunged",)]
        if open_sanctions and rng.random() < 0.7:
            sanction_id, state, _ = rng.choice(open_sanctions)
            following = {
                "in_force": ("spent", "stayed", "varied", "quashed"),
                "stayed": ("varied", "quashed"),
                "spent": ("expunged",),
                "quashed": ("expunged",),
            }[state]
            event = rng.choice(following)
        elif violation.sanctions:
            return None
        if event in ("imposed", "varied"):
            penalty, time_bound = rng.choices(PENALTIES, PENALTY_WEIGHTS)[0]
            period = rng.choice((6, 12, 24)) if time_bound else None
        violation.orders += 1
        record = self.blank(
            kind="sanction_event",
            recorded_at=recorded_at,
            violation_id=version["id"],
            case_id=version["case_id"],
            submission_id=version["submission_id"],
            department=version["department"],
            sanction_event=event,
            penalty_code=penalty,
            penalty_catalogue_version=1 if penalty else None,
            period_months=period,
            order_reference=f"{version['department']}/DISC/{order_date:%Y}/{violation.orders}",
            reasons=f"Order of the competent authority: sanction {event}.",
            recorded_by_id=self.uuid(),
            recorded_by_label=f"competent authority {version['department']}",
            effective_on=order_date,
        )
        record["sanction_id"] = sanction_id or record["id"]
        states = {
            "imposed": "in_force",
            "varied": "in_force",
            "stayed": "stayed",
            "spent": "spent",
            "quashed": "quashed",
            "expunged": "expunged",
        }
        state = states[event]
        if event == "imposed":
            violation.sanctions.append((record["id"], state, 1))
        else:
            violation.sanctions = [
                (sid, state if sid == sanction_id else old, n)
                for sid, old, n in violation.sanctions
            ]
        return record

    def permission(self, recorded_at: datetime) -> dict[str, Any]:
        rng = self.rng
        renewal = self.permissions and rng.random() < 0.15
        previous = self.permissions.pop(rng.randrange(len(self.permissions))) if renewal else None
        department = previous["department"] if previous else rng.choice(self.departments)
        official = (
            (previous["record_kind"] == "official_account") if previous else (rng.random() < 0.25)
        )
        decision = rng.choices(("granted", "granted_with_conditions", "refused"), (60, 25, 15))[0]
        valid_from = recorded_at.date()
        platform = previous["platform"] if previous else rng.choices(PLATFORMS, PLATFORM_WEIGHTS)[0]
        employee_ref, employee_name = (None, None) if official else self.employee(department)
        if previous and not official:
            employee_ref, employee_name = previous["employee_ref"], previous["employee_name"]
        owner = "official" if employee_ref is None else employee_ref.lower()
        handle = (
            previous["account_handle"]
            if previous
            else f"@{department.lower()}_{owner}_{rng.randrange(100)}"
        )
        record = self.blank(
            kind="official_account" if official else "permission",
            recorded_at=recorded_at,
            case_id=self.uuid(),
            submission_id=self.uuid(),
            department=department,
            decision=decision,
            conditions=(
                ["No official documents may be posted.", "Comments moderated daily."]
                if decision == "granted_with_conditions"
                else []
            ),
            reasons=f"Permission {decision.replace('_', ' ')} by the monitoring unit.",
            platform=platform,
            account_handle=handle,
            account_url=f"https://{platform}.example/{handle.lstrip('@')}",
            purpose="Engaging citizens on service delivery and complaints."
            if official
            else "Personal use within the conduct rules.",
            account_purpose=rng.choice(("policy_feedback", "service_delivery", "complaints"))
            if official
            else None,
            moderators=[
                {
                    "employee_ref": f"{department}-EMP-{rng.randrange(EMPLOYEES_PER_DEPARTMENT):05d}",
                    "name": f"{rng.choice(GIVEN_NAMES)} {rng.choice(SURNAMES)}",
                    "designation": "Public Relations Officer",
                }
            ]
            if official
            else None,
            employee_ref=employee_ref,
            employee_name=employee_name,
            effective_on=valid_from,
            expires_on=None
            if decision == "refused"
            else valid_from + timedelta(days=rng.choice((180, 365, 730))),
            renewal_of=previous["id"] if previous else None,
            supersedes_id=previous["id"] if previous and decision != "refused" else None,
            determined_by=self.uuid(),
            decided_at=recorded_at - timedelta(hours=rng.randrange(1, 48)),
        )
        if decision != "refused":
            self.permissions.append(_kept(record, RENEWED))
        elif previous is not None:
            # A refused renewal leaves the permission it named as it was: renewable again.
            self.permissions.append(previous)
        return record


def _copy_value(name: str, value: Any) -> Any:
    if name == "moderators" and value is not None:
        return json.dumps(value)
    return value


async def _copy(connection: asyncpg.Connection, batch: list[tuple[Any, ...]]) -> None:
    await connection.copy_records_to_table(
        "ledger_record", schema_name="registry", columns=COLUMNS, records=batch
    )


async def seed_ledger(
    database_url: str,
    count: int,
    *,
    seed: int = 20261201,
    years: float = 3.0,
    department_prefix: str = "",
    batch_size: int = 50_000,
    canonical_version: int = CANONICAL_VERSION,
) -> SeededLedger:
    """Append `count` generated records to the registry's ledger (schema `registry`) at
    `database_url`, chained from the current head; returns what was appended.

    One transaction under the ledger's append lock; COPY in batches of `batch_size`. Needs the
    rules and penalties catalogues (version 1) the registry's migrations seed.

    `seed` fixes the records; `years` is how far back recorded_at goes from now;
    `department_prefix` is put before every department code (HEALTH, EDUCATION, ..., MTI-01,
    DHO-01: 45 in all), so a test can seed departments nobody else counts; `canonical_version`
    is the canonical form of the hashes (1: as records appended before registry_0009 were). 1,000,000 records
    cost about 90 s of Python CPU (generating and hashing) plus PostgreSQL's COPY with the
    ledger's indexes, foreign keys and the statistics tally's trigger, then a VACUUM: 4.5
    minutes measured on the shared 2-core machine moderately loaded, 16 under heavy load.
    """
    import time

    began = time.perf_counter()
    connection = await asyncpg.connect(to_plain_url(database_url))
    try:
        await connection.execute("SET statement_timeout = 0")
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", LEDGER_LOCK_KEY)
            head = await connection.fetchrow(
                "SELECT sequence, chain_hash FROM registry.ledger_record "
                "ORDER BY sequence DESC LIMIT 1"
            )
            catalogue_version = await connection.fetchval(
                "SELECT max(version) FROM registry.catalogue_version"
            )
            sequence, previous = (
                (head["sequence"], head["chain_hash"]) if head else (0, GENESIS_HASH)
            )
            first_sequence = sequence + 1
            end = datetime.now(UTC) - timedelta(seconds=1)
            stream = _Stream(
                seed=seed,
                count=count,
                start=end - timedelta(days=365.25 * years),
                end=end,
                departments=tuple(department_prefix + code for code in DEPARTMENTS),
                canonical_version=canonical_version,
            )
            kinds: dict[str, int] = {}
            batch: list[tuple[Any, ...]] = []
            for record in stream.records():
                sequence += 1
                record["sequence"] = sequence
                record["catalogue_version"] = catalogue_version
                # Personal data is chained through its salted digest (retention may purge it).
                record["personal_salt"] = new_personal_salt()
                record["personal_digest"] = personal_digest(record)
                digest = content_hash(record)
                record["content_hash"] = digest
                record["previous_hash"] = previous
                previous = record["chain_hash"] = link_hash(
                    previous_hash=previous, content_hash=digest
                )
                kinds[record["record_kind"]] = kinds.get(record["record_kind"], 0) + 1
                batch.append(tuple(_copy_value(name, record[name]) for name in COLUMNS))
                if len(batch) >= batch_size:
                    await _copy(connection, batch)
                    batch = []
            if batch:
                await _copy(connection, batch)
        # As autovacuum would leave it: statistics for the planner, the visibility map for
        # index-only scans.
        await connection.execute("VACUUM (ANALYZE) registry.ledger_record")
        await connection.execute("VACUUM (ANALYZE) registry.statistics_tally")
    finally:
        await connection.close()
    return SeededLedger(
        first_sequence=first_sequence,
        last_sequence=sequence,
        head_hash=previous,
        kinds=kinds,
        seconds=time.perf_counter() - began,
    )
