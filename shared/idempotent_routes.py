"""Idempotency-Key on every POST of a router, bound to FastAPI: one route class per service.

    IntakeRoute = idempotent_route(schema="intake", caller_ref=client_reference)
    router = APIRouter(prefix="/v1/reports", route_class=IntakeRoute)

Every POST of such a router takes the optional `Idempotency-Key` header (shared.idempotency has
the rules). Two pieces cooperate, because neither alone sees both ends of the transaction:

- a dependency (the guard), added to each POST, runs after the caller is authenticated and
  before the endpoint: it claims the key in the request's own `DbSession`, or replays the
  stored answer, or refuses (409, 422);
- the route's handler wraps FastAPI's: it catches the replay and sends it, and once the
  endpoint has produced its response it writes that response under the claimed key. The
  handler returns before the `DbSession` dependency commits (FastAPI closes function-scoped
  dependencies after the handler, before sending), so the answer is committed in the same
  transaction as the change it announces.
"""

# No `from __future__ import annotations` here: FastAPI reads the guard's parameter
# annotations at runtime, and they name this factory's arguments (closure variables), which
# string annotations could not resolve.

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import responses_for
from shared.http import DbSession
from shared.idempotency import (
    IDEMPOTENCY_HEADER,
    MAX_KEY_LENGTH,
    REPLAY_HEADER,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    IdempotentRequestInProgress,
    KeyClaim,
    StoredAnswer,
    check_key,
    claim_key,
    record_answer,
    request_fingerprint,
)

SCOPE_KEY = "conduct.idempotency"

CallerRef = Callable[..., Awaitable[str]]

KEY_DESCRIPTION = (
    f"Up to {MAX_KEY_LENGTH} printable ASCII characters, unique per request you mean to make. "
    "Sending the same request again with the same key within 24 hours returns the first "
    "answer (marked `Idempotent-Replayed: true`) and changes nothing; the same key with a "
    "different request gets 422; a copy sent while the first is still in flight gets 409 "
    "with Retry-After."
)


@dataclass
class _RequestState:
    """What the guard tells the handler about this request's key."""

    session: AsyncSession | None = None
    claim: KeyClaim | None = None


class _Replay(Exception):
    """Raised by the guard to hand a stored answer to the handler: control flow, not an error."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("replay")
        self.answer = answer


def replay_response(answer: StoredAnswer) -> Response:
    response = Response(content=answer.body, status_code=answer.status)
    response.raw_headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers
    )
    response.headers[REPLAY_HEADER] = "true"
    return response


def idempotency_guard(*, schema: str, caller_ref: CallerRef) -> Callable[..., Awaitable[None]]:
    """The dependency that claims or replays a POST's key; `caller_ref` names its owner."""

    async def guard(
        request: Request,
        session: DbSession,
        caller: Annotated[str, Depends(caller_ref)],
        idempotency_key: Annotated[
            str | None, Header(alias=IDEMPOTENCY_HEADER, description=KEY_DESCRIPTION)
        ] = None,
    ) -> None:
        state = request.scope.get(SCOPE_KEY)
        if not isinstance(state, _RequestState):
            raise RuntimeError("the idempotency guard only works on an idempotent_route()")
        if idempotency_key is None:
            return
        key = check_key(idempotency_key)
        fingerprint = request_fingerprint(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            content_type=request.headers.get("content-type"),
            body=await request.body(),
        )
        outcome = await claim_key(
            session,
            schema=schema,
            caller_ref=caller,
            key=key,
            fingerprint=fingerprint,
            request_line=f"{request.method} {request.url.path}",
        )
        if isinstance(outcome, StoredAnswer):
            raise _Replay(outcome)
        state.session = session
        state.claim = outcome

    return guard


def idempotent_route(*, schema: str, caller_ref: CallerRef) -> type[APIRoute]:
    """A route class whose POSTs honour Idempotency-Key, keys stored in `<schema>`."""
    guard = idempotency_guard(schema=schema, caller_ref=caller_ref)
    documented = responses_for(
        IdempotencyKeyInvalid, IdempotencyKeyReused, IdempotentRequestInProgress
    )

    def with_documented(
        responses: dict[int | str, dict[str, Any]],
    ) -> dict[int | str, dict[str, Any]]:
        """The route's documented answers plus the key's, so OpenAPI stays true."""
        merged = dict(responses)
        for status, entry in documented.items():
            if status in merged:
                own = merged[status]
                merged[status] = {
                    **own,
                    "description": f"{own.get('description', '')}; or: {entry['description']}",
                }
            else:
                merged[status] = entry
        return merged

    class IdempotentRoute(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
            if "POST" in {method.upper() for method in options.get("methods") or ()}:
                dependencies = list(options.get("dependencies") or [])
                if not any(depends.dependency is guard for depends in dependencies):
                    dependencies.append(Depends(guard))
                options["dependencies"] = dependencies
                options["responses"] = with_documented(options.get("responses") or {})
            super().__init__(path, endpoint, **options)

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handle = super().get_route_handler()

            async def handle_idempotently(request: Request) -> Response:
                state = _RequestState()
                request.scope[SCOPE_KEY] = state
                try:
                    response = await handle(request)
                except _Replay as replay:
                    return replay_response(replay.answer)
                if state.claim is not None and state.session is not None:
                    body = getattr(response, "body", None)
                    if not isinstance(body, bytes):
                        raise RuntimeError("an idempotent POST must answer with a whole body")
                    await record_answer(
                        state.session,
                        claim=state.claim,
                        status=response.status_code,
                        headers=list(response.headers.items()),
                        body=body,
                    )
                return response

            return handle_idempotently

    return IdempotentRoute
