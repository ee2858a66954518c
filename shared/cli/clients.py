"""`conduct clients` and `conduct readers`: the credentials of intake's callers (departmental
portals, MTI systems) and of the registry's readers. Issuing, rotating and revoking are the
services' own functions; this only calls them, and shows each token once."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, get_args

import typer

from shared.cli.common import (
    in_transaction,
    refusals_shown,
    refuse,
    say,
    show_rows,
    show_token,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.intake.clients.models import OrganisationKind
    from services.registry.readers.models import ReaderRole

clients = typer.Typer(
    help="Credentials of intake's callers: departmental portals and MTI systems.",
    no_args_is_help=True,
)
readers = typer.Typer(help="Credentials of the registry's readers.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line")]


def known_kind(kind: str) -> OrganisationKind:
    from services.intake.clients.models import OrganisationKind

    kinds: tuple[OrganisationKind, ...] = get_args(OrganisationKind)
    for known in kinds:
        if known == kind:
            return known
    raise typer.BadParameter(f"unknown kind {kind!r}; one of {', '.join(kinds)}")


def known_scopes(scopes: list[str]) -> list[str]:
    from services.intake.clients.service import SCOPES

    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise typer.BadParameter(
            f"unknown scope {', '.join(map(repr, unknown))}; known: {', '.join(SCOPES)}"
        )
    if not scopes:
        raise typer.BadParameter(f"give at least one scope; known: {', '.join(SCOPES)}")
    return scopes


def known_reader_role(role: str) -> ReaderRole:
    from services.registry.readers.models import READER_ROLES

    for known in READER_ROLES:
        if known == role:
            return known
    raise typer.BadParameter(f"unknown role {role!r}; one of {', '.join(READER_ROLES)}")


@clients.command("issue")
def issue_command(
    kind: Annotated[str, typer.Option(help="department or institution")],
    organisation: Annotated[str, typer.Option(help="The department's or institution's code")],
    scope: Annotated[
        list[str],
        typer.Option(
            help="What it may do (repeat): reports:write, permissions:write, "
            "violator-lists:write, status:read, notices:respond"
        ),
    ],
    label: Annotated[str, typer.Option(help="Who holds it, for the operators")],
) -> None:
    """Issue a credential for a new client. The token is printed once, never again.

    Example: conduct clients issue --kind department --organisation DEPT-HEALTH --scope reports:write --scope status:read --label "Health portal"
    """
    chosen_kind = known_kind(kind)
    scopes = known_scopes(scope)

    async def work(session: AsyncSession) -> tuple[str, str]:
        from services.intake.clients.service import issue_client_credential

        credential, issued = await issue_client_credential(
            session,
            label=label,
            organisation_kind=chosen_kind,
            organisation_code=organisation,
            scopes=scopes,
        )
        return credential.key_id, issued.token

    key_id, token = in_transaction(work)
    say(f"client credential {key_id} issued to {chosen_kind} {organisation}")
    show_token(token, what="client")


@clients.command("list")
def list_command(
    organisation: Annotated[
        str | None, typer.Option(help="Only this department's or institution's")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List client credentials (never their secrets), oldest first.

    Example: conduct clients list --organisation DEPT-HEALTH
    """

    async def work(session: AsyncSession) -> list[dict[str, object]]:
        from sqlalchemy import select

        from services.intake.clients.models import ClientCredential

        # Named columns only: the secret's hash is never read, so it cannot be printed.
        query = select(
            ClientCredential.key_id,
            ClientCredential.client_id,
            ClientCredential.label,
            ClientCredential.organisation_kind,
            ClientCredential.organisation_code,
            ClientCredential.scopes,
            ClientCredential.created_at,
            ClientCredential.expires_at,
            ClientCredential.revoked_at,
        ).order_by(ClientCredential.created_at, ClientCredential.key_id)
        if organisation is not None:
            query = query.where(ClientCredential.organisation_code == organisation)
        return [dict(row) for row in (await session.execute(query)).mappings()]

    show_rows(
        in_transaction(work),
        columns={
            "key_id": "key id",
            "label": "label",
            "organisation_code": "organisation",
            "scopes": "scopes",
            "created_at": "created",
            "expires_at": "expires",
            "revoked_at": "revoked",
        },
        title="client credentials",
        empty="no client credentials",
        as_json=as_json,
    )


@clients.command("rotate")
def rotate_command(
    key_id: Annotated[str, typer.Argument(help="The key id of the credential to replace")],
    overlap_hours: Annotated[
        float,
        typer.Option(help="How long the old credential keeps working (0 cuts over at once)"),
    ] = 24.0,
) -> None:
    """Issue a new secret for the same client; the old one keeps working for the overlap,
    so the client's replicas can switch over. The new token is printed once.

    Example: conduct clients rotate ck_1a2b3c4d5e6f7a8b --overlap-hours 48
    """

    async def work(session: AsyncSession) -> tuple[str, str, str]:
        from services.intake.clients.service import rotate_client_credential

        try:
            new, issued = await rotate_client_credential(
                session, key_id=key_id, overlap=timedelta(hours=overlap_hours)
            )
        except ValueError as refused:
            refuse(str(refused))
        return new.key_id, issued.token, f"{key_id} keeps working for {overlap_hours:g} h"

    with refusals_shown():
        new_key_id, token, overlap = in_transaction(work)
    say(f"client credential {new_key_id} issued; {overlap}")
    show_token(token, what="client")


@clients.command("revoke")
def revoke_command(
    key_id: Annotated[str, typer.Argument(help="The key id of the credential to revoke")],
) -> None:
    """Revoke a credential: its very next request is refused. A rotated client's other
    credential is not touched; revoke it by its own key id.

    Example: conduct clients revoke ck_1a2b3c4d5e6f7a8b
    """

    async def work(session: AsyncSession) -> str:
        from services.intake.clients.service import revoke_client_credential

        credential = await revoke_client_credential(session, key_id=key_id)
        return f"{key_id} revoked at {credential.revoked_at}"

    with refusals_shown():
        say(in_transaction(work))


@readers.command("issue")
def issue_reader_command(
    role: Annotated[str, typer.Option(help="auditor, dashboard or competent_authority")],
    label: Annotated[str, typer.Option(help="Who holds it, for the operators")],
    organisation: Annotated[
        str | None, typer.Option(help="The one department it may read; every one if left out")
    ] = None,
) -> None:
    """Issue a credential for a reader of the registry. The token is printed once.

    Example: conduct readers issue --role competent_authority --organisation DEPT-HEALTH --label "Secretary Health"
    """
    chosen = known_reader_role(role)

    async def work(session: AsyncSession) -> tuple[str, str]:
        from services.registry.readers.service import issue_reader_credential

        credential, issued = await issue_reader_credential(
            session, label=label, role=chosen, organisation_code=organisation
        )
        return credential.key_id, issued.token

    key_id, token = in_transaction(work)
    reads = f"department {organisation}" if organisation else "every department"
    say(f"reader credential {key_id} issued: {chosen}, reads {reads}")
    show_token(token, what="reader")


@readers.command("list")
def list_readers_command(as_json: JsonOption = False) -> None:
    """List reader credentials (never their secrets), oldest first.

    Example: conduct readers list --json
    """

    async def work(session: AsyncSession) -> list[dict[str, object]]:
        from sqlalchemy import select

        from services.registry.readers.models import ReaderCredential

        # Named columns only: the secret's hash is never read, so it cannot be printed.
        query = select(
            ReaderCredential.key_id,
            ReaderCredential.label,
            ReaderCredential.role,
            ReaderCredential.organisation_code,
            ReaderCredential.created_at,
            ReaderCredential.revoked_at,
        ).order_by(ReaderCredential.created_at, ReaderCredential.key_id)
        return [dict(row) for row in (await session.execute(query)).mappings()]

    show_rows(
        in_transaction(work),
        columns={
            "key_id": "key id",
            "label": "label",
            "role": "role",
            "organisation_code": "department",
            "created_at": "created",
            "revoked_at": "revoked",
        },
        title="reader credentials",
        empty="no reader credentials",
        as_json=as_json,
    )


@readers.command("revoke")
def revoke_reader_command(
    key_id: Annotated[str, typer.Argument(help="The key id of the credential to revoke")],
) -> None:
    """Revoke a reader's credential: its very next request is refused.

    Example: conduct readers revoke rk_1a2b3c4d5e6f7a8b
    """

    async def work(session: AsyncSession) -> str:
        from sqlalchemy import select

        from services.registry.readers.models import ReaderCredential
        from services.registry.readers.service import revoke_reader_credential

        credential = await session.scalar(
            select(ReaderCredential).where(ReaderCredential.key_id == key_id).with_for_update()
        )
        if credential is None:
            refuse(f"no reader credential {key_id}")
        await revoke_reader_credential(session, credential=credential)
        return f"{key_id} revoked at {credential.revoked_at}"

    say(in_transaction(work))
