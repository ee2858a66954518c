"""OpenTelemetry tracing: one trace from an HTTP request through the queue hops it causes.

Off by default: spans are then the API's no-op spans and nothing is recorded or exported. With
OTEL_EXPORTER_OTLP_ENDPOINT set (e.g. http://collector:4318), each process installs the SDK's
tracer provider and exports its spans over OTLP/HTTP in batches.

The trace crosses the queue inside the message: `stage_message` writes the current span's W3C
trace context (`traceparent`, `tracestate`) into the envelope's `trace_context`, and the
consumer runs the handler in a child span of it, so the messages the handler stages carry the
same trace onward. The context is propagated even where tracing is off (a no-op span keeps its
parent's ids), so a service with tracing off does not cut the trace of those that have it on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import ServiceSettings

INSTRUMENTATION_NAME = "conduct"
# W3C trace context only: baggage could carry anything a caller put in it.
_PROPAGATOR = TraceContextTextMapPropagator()
# The provider spans come from. The API's no-op one until `configure_tracing` (or a test)
# installs another; kept here rather than only as OpenTelemetry's global, which can be set once
# per process, so that tests can switch tracing on and off.
_provider: trace.TracerProvider = trace.NoOpTracerProvider()
# What configure_tracing installed: the one provider this module flushes and shuts down.
_exporting: trace.TracerProvider | None = None


def configure_tracing(*, service: str, settings: ServiceSettings) -> None:
    """Install the SDK's provider exporting over OTLP/HTTP when an endpoint is configured;
    otherwise leave tracing off. Called once per process (API lifespan, worker startup)."""
    global _provider, _exporting
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint or _exporting is not None:
        return
    # Imported here: a process with tracing off never loads the SDK or the exporter.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name or service})
    )
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"))
    )
    _provider = _exporting = provider
    trace.set_tracer_provider(provider)


def shutdown_tracing() -> None:
    """Flush the spans still batched (on a process's orderly stop)."""
    global _provider, _exporting
    shutdown = getattr(_exporting, "shutdown", None)
    if callable(shutdown):
        shutdown()
    if _provider is _exporting:
        _provider = trace.NoOpTracerProvider()
    _exporting = None


@contextmanager
def tracing_with(provider: trace.TracerProvider) -> Iterator[None]:
    """Use `provider` for spans inside the block (tests: an in-memory exporter's provider)."""
    global _provider
    previous, _provider = _provider, provider
    try:
        yield
    finally:
        _provider = previous


def tracer() -> trace.Tracer:
    return _provider.get_tracer(INSTRUMENTATION_NAME)


def current_trace_context() -> dict[str, str] | None:
    """The current span's W3C trace context for a message's envelope; None outside any trace."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier or None


@contextmanager
def consuming(
    *,
    message_type: str,
    message_id: str,
    correlation_id: str,
    trace_context: Mapping[str, str] | None,
    service: str,
) -> Iterator[trace.Span]:
    """A consumer span for handling one message, a child of the span that staged it."""
    parent = _PROPAGATOR.extract(dict(trace_context or {}))
    with tracer().start_as_current_span(
        f"{message_type} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "arq",
            "messaging.operation.type": "process",
            "messaging.destination.name": message_type,
            "messaging.message.id": message_id,
            "messaging.consumer.group.name": service,
            "conduct.correlation_id": correlation_id,
        },
    ) as span:
        yield span


@contextmanager
def resuming(name: str, *, trace_context: Mapping[str, str] | None) -> Iterator[trace.Span]:
    """A span in the trace a submission began (its stored `trace_context`), linked to the
    current span: how a step a person takes later (the chair's countersignature) carries the
    submission's trace on to what follows over the queue. Without a stored context, a child of
    the current span."""
    if not trace_context:
        with tracer().start_as_current_span(name) as span:
            yield span
        return
    current = trace.get_current_span().get_span_context()
    links = [trace.Link(current)] if current.is_valid else []
    with tracer().start_as_current_span(
        name, context=_PROPAGATOR.extract(dict(trace_context)), links=links
    ) as span:
        yield span


class TraceRequests:
    """A server span around every HTTP request, continuing the caller's trace when its
    `traceparent` header names one."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope.get("headers") or []
            if key in (b"traceparent", b"tracestate")
        }
        method = scope.get("method", "GET")
        with tracer().start_as_current_span(
            method,
            context=_PROPAGATOR.extract(headers),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.path": scope.get("path", ""),
                "conduct.service": self.service,
            },
            # Errors are mostly problem responses below us; what still escapes is recorded.
            record_exception=True,
            set_status_on_exception=True,
        ) as span:

            async def send_recording_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                await send(message)

            try:
                await self.app(scope, receive, send_recording_status)
            finally:
                route = scope.get("route")
                path = getattr(route, "path", None)
                if path:
                    span.update_name(f"{method} {path}")
                    span.set_attribute("http.route", path)
                correlation_id = (scope.get("state") or {}).get("correlation_id")
                if correlation_id:
                    span.set_attribute("conduct.correlation_id", correlation_id)
