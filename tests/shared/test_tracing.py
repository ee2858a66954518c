"""Tracing: the trace of an HTTP request crosses the queue in the envelope, so the consumers'
spans (review opening the case, registry recording the violation) join the trace of the
request that caused them; with tracing off nothing is recorded and envelopes are as before;
with an OTLP endpoint configured, spans leave the process over OTLP/HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.tracing import tracer, tracing_with
from tests.factories import (
    bearer,
    create_client,
    create_unit_with_members,
    report_body,
    unique_code,
)
from tests.review.steps import SCREEN, clear_for_notice, determination_body
from tests.support import pump
from tests.test_flow import submit, the_assigned_case

pytestmark = pytest.mark.usefixtures("catalogue")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test only, its spans kept in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with tracing_with(provider):
        yield exporter
    provider.shutdown()


def the_span(
    finished: tuple[ReadableSpan, ...], *, kind: SpanKind, name: str, **attributes: Any
) -> ReadableSpan:
    found = [
        span
        for span in finished
        if span.kind == kind
        and span.name == name
        and all((span.attributes or {}).get(key) == value for key, value in attributes.items())
    ]
    assert len(found) == 1, [(span.name, span.attributes) for span in finished]
    return found[0]


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


async def outbox_envelope(
    sessionmaker: async_sessionmaker[AsyncSession], producer: str, report_id: str
) -> dict[str, Any]:
    async with sessionmaker() as session:
        envelope: dict[str, Any] = (
            await session.execute(
                text(
                    f"SELECT envelope FROM {producer}.outbox_message "
                    "WHERE envelope->'payload'->>'report_id' = :report_id"
                ),
                {"report_id": report_id},
            )
        ).scalar_one()
    return envelope


async def test_the_trace_of_a_report_crosses_the_queue_to_review_and_the_registry(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    spans: InMemorySpanExporter,
) -> None:
    department = unique_code("TRACE")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    report_id = await submit(intake_api, portal)
    request = the_span(
        spans.get_finished_spans(),
        kind=SpanKind.SERVER,
        name="POST /v1/reports",
        **{"http.response.status_code": 202},
    )
    # The envelope carries the request's W3C trace context.
    envelope = await outbox_envelope(sessionmaker, "intake", report_id)
    traceparent = envelope["trace_context"]["traceparent"]
    assert traceparent.split("-")[1] == f"{trace_id(request):032x}"

    await pump(sessionmaker, queue)

    # review's handling of the report is a consumer span in the portal's trace, a child of it.
    opened = the_span(
        spans.get_finished_spans(),
        kind=SpanKind.CONSUMER,
        name="report.received process",
        **{"messaging.consumer.group.name": "review"},
    )
    assert trace_id(opened) == trace_id(request)
    assert opened.parent is not None and request.context is not None
    assert opened.parent.span_id == request.context.span_id
    # ...and what review staged while handling it (the status back to intake) goes on in it.
    status_updates = [
        span
        for span in spans.get_finished_spans()
        if span.name == "case.status_changed process" and trace_id(span) == trace_id(request)
    ]
    assert status_updates, "review's status message to intake left the portal's trace"

    # The chair's countersignature is a request of its own (its own trace), yet the finding it
    # makes final goes on in the portal's trace to the registry's record, through a span
    # linked to the chair's request.
    case, member = await the_assigned_case(review_api, unit)
    case_url = f"/v1/cases/{case['id']}"
    for step, body in (
        ("screen", SCREEN),
        ("notice", {"allegations": "Rule 22: the post."}),
        ("reply", {"statement": "I regret the post."}),
        ("hearing", {"waived": True, "reason": "The employee relies on the written reply."}),
        ("determination", None),
    ):
        if step == "notice":
            await clear_for_notice(review_api, case_url, member.headers)
        if body is None:
            body = await determination_body(
                review_api, case_url, member.headers, reasons="The post."
            )
        response = await review_api.post(f"{case_url}/{step}", json=body, headers=member.headers)
        assert response.status_code == 200, (step, response.text)
    spans.clear()
    countersigned = await review_api.post(f"{case_url}/countersign", headers=unit.chair.headers)
    assert countersigned.status_code == 200, countersigned.text
    await pump(sessionmaker, queue)
    finished = spans.get_finished_spans()
    countersign = the_span(
        finished, kind=SpanKind.SERVER, name="POST /v1/cases/{case_id}/countersign"
    )
    recorded = the_span(
        finished,
        kind=SpanKind.CONSUMER,
        name="determination.recorded process",
        **{"messaging.consumer.group.name": "registry"},
    )
    assert trace_id(countersign) != trace_id(request)
    assert trace_id(recorded) == trace_id(request)
    final = the_span(finished, kind=SpanKind.INTERNAL, name="case.determination_final")
    assert trace_id(final) == trace_id(request)
    assert countersign.context is not None
    assert [link.context.span_id for link in final.links] == [countersign.context.span_id]
    # The registry's own message onward (record.created) stays in the portal's trace.
    onward = [span for span in finished if span.name == "record.created process"]
    assert onward and all(trace_id(span) == trace_id(request) for span in onward)


async def test_with_tracing_off_nothing_is_recorded_and_envelopes_are_unchanged(
    intake_api: httpx.AsyncClient,
    review_api: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
) -> None:
    assert not tracer().start_span("probe").is_recording()
    department = unique_code("NOTRACE")
    portal = await create_client(sessionmaker, organisation_code=department)
    unit = await create_unit_with_members(sessionmaker, jurisdiction=[department])
    report_id = await submit(intake_api, portal)
    envelope = await outbox_envelope(sessionmaker, "intake", report_id)
    assert "trace_context" not in envelope
    await pump(sessionmaker, queue)
    case, _ = await the_assigned_case(review_api, unit)
    assert case["submission_id"] == report_id


async def test_a_caller_traceparent_is_continued_even_with_tracing_off(
    intake_api: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # A gateway that traces: its trace id goes on through our messages though we record none.
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    portal = await create_client(sessionmaker, organisation_code=unique_code("GW"))
    response = await intake_api.post(
        "/v1/reports",
        json=report_body(),
        headers={**bearer(portal), "traceparent": traceparent},
    )
    assert response.status_code == 202, response.text
    envelope = await outbox_envelope(sessionmaker, "intake", response.json()["id"])
    assert envelope["trace_context"]["traceparent"] == traceparent


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, int]] = []

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self.received.append((self.path, self.headers.get("Content-Type", ""), length))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_with_an_otlp_endpoint_spans_are_exported_over_http() -> None:
    # A process of its own: the SDK's global provider can be set once per process.
    collector = HTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=collector.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    script = (
        "from shared.settings import ServiceSettings\n"
        "from shared.tracing import configure_tracing, shutdown_tracing, tracer\n"
        "configure_tracing(service='intake', settings=ServiceSettings())\n"
        "with tracer().start_as_current_span('probe') as span:\n"
        "    assert span.is_recording()\n"
        "shutdown_tracing()\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
            capture_output=True,
            timeout=30,
        )
    finally:
        collector.shutdown()
        collector.server_close()
    assert done.returncode == 0, done.stderr.decode()
    assert [(path, kind) for path, kind, _ in _Collector.received] == [
        ("/v1/traces", "application/x-protobuf")
    ]
    assert all(size > 0 for _, _, size in _Collector.received)
