"""`conduct retention`: the registry's retention policy run by an operator, a dry run first.

`preview` shows what the policy would purge today (counts, case and record ids; no personal
data) and the preview's digest. `apply` shows the same preview and then applies exactly it:
only with the digest of a preview the operator saw (`--digest`), with `--yes`, or on a yes at
the prompt. The registry's own functions do the work (services/registry/retention/)."""

from __future__ import annotations

import getpass
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from shared.cli.common import console, in_transaction, refusals_shown, say, show_rows
from shared.db import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.retention.service import RetentionPolicy, RetentionPreview

retention = typer.Typer(
    help="The registry's retention policy: personal data of cleared outcomes removed on the "
    "record, a dry run first.",
    no_args_is_help=True,
)

ClearedDays = Annotated[
    int | None,
    typer.Option(
        "--cleared-days",
        min=0,
        max=36_500,
        help="Days after a cleared outcome before its records lose their personal data "
        "(default: REGISTRY_RETENTION_CLEARED_DAYS)",
    ),
]
Department = Annotated[
    str | None, typer.Option("--department", help="Only this department's cases")
]
Limit = Annotated[int, typer.Option("--limit", min=0, help="Due cases listed at most")]


def policy_of(cleared_days: int | None) -> RetentionPolicy:
    from services.registry.retention.service import RetentionPolicy
    from services.registry.retention.settings import RetentionSettings

    days = RetentionSettings().cleared_days if cleared_days is None else cleared_days
    return RetentionPolicy(cleared_days=days)


def previewed(policy: RetentionPolicy, *, department: str | None) -> RetentionPreview:
    from services.registry.retention.service import preview_retention

    async def work(session: AsyncSession) -> RetentionPreview:
        return await preview_retention(
            session, policy=policy, today=today(), department_scope=department
        )

    return in_transaction(work)


def today() -> date:
    return utcnow().date()


def show_preview(preview: RetentionPreview, *, limit: int) -> None:
    show_rows(
        (
            {
                "case_id": case.case_id,
                "department": case.department,
                "outcome": case.outcome.replace("_", " "),
                "outcome_on": case.outcome_on.isoformat(),
                "records": len(case.record_ids),
                "record_ids": [str(record_id) for record_id in case.record_ids],
            }
            for case in preview.cases[:limit]
        ),
        columns={
            "case_id": "case",
            "department": "department",
            "outcome": "outcome",
            "outcome_on": "outcome on",
            "records": "records",
            "record_ids": "record ids",
        },
        title=f"Due under a {preview.policy.cleared_days}-day policy (outcomes by "
        f"{preview.cutoff.isoformat()})",
        empty="nothing is due: no record would be purged",
        as_json=False,
    )
    if len(preview.cases) > limit:
        say(f"... and {len(preview.cases) - limit} more cases")
    say(
        f"{preview.record_count} records of {len(preview.cases)} cases would lose their "
        "personal data"
    )
    say(f"preview digest: {preview.digest}")


@retention.command("preview")
def preview_command(
    cleared_days: ClearedDays = None, department: Department = None, limit: Limit = 50
) -> None:
    """Dry run: list what the retention policy would purge today, and change nothing. Pass
    the digest it prints to `conduct retention apply --digest` to apply exactly this.

    Example: conduct retention preview --cleared-days 365
    """
    show_preview(previewed(policy_of(cleared_days), department=department), limit=limit)


@retention.command("apply")
def apply_command(
    cleared_days: ClearedDays = None,
    department: Department = None,
    digest: Annotated[
        str | None,
        typer.Option("--digest", help="The digest `conduct retention preview` printed"),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Apply the preview shown without asking")
    ] = False,
    limit: Limit = 50,
) -> None:
    """Show the preview, then purge exactly what it lists and record each purge in the
    ledger. Needs the digest of a preview you saw (--digest), --yes, or a yes at the prompt;
    refused (exit 1, nothing purged) if what is due changed since that preview.

    Example: conduct retention apply --cleared-days 365 --digest 3f0c...e9
    """
    from services.registry.retention.service import apply_retention

    policy = policy_of(cleared_days)
    preview = previewed(policy, department=department)
    show_preview(preview, limit=limit)
    if digest is None:
        if not preview.cases:
            return
        if not yes and not typer.confirm("Purge the personal data of these records?"):
            console.print("nothing purged")
            raise typer.Exit(code=1)
        digest = preview.digest

    async def work(session: AsyncSession) -> tuple[int, int]:
        run = await apply_retention(
            session,
            policy=policy,
            today=today(),
            department_scope=department,
            expected_digest=digest,
            recorded_by_id=None,
            recorded_by_label=f"conduct retention apply ({getpass.getuser()})",
        )
        return len(run.preview.cases), run.preview.record_count

    with refusals_shown():
        cases, records = in_transaction(work)
    console.print(
        f"[green]purged {records} records of {cases} cases; each purge is in the ledger[/green]"
    )
