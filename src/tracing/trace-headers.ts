/**
 * Between a span and the W3C headers a message carries. Written by lightbus itself rather
 * than by the registered propagator: the wire contract is W3C Trace Context whatever
 * propagator a service set up for its HTTP traffic (B3, Jaeger...), and a received value has
 * already passed transport/wire/trace-context.ts.
 */
import { createTraceState, isSpanContextValid, ROOT_CONTEXT, trace, type Context, type Span, type SpanContext } from '../vendor/opentelemetry.js';
import type { TraceHeaders } from '../transport/types.js';

/** `00-{trace id}-{span id}-{flags}` (and the tracestate) of `span`, or undefined when its context is not valid. */
export function headersOf(span: Span): TraceHeaders | undefined {
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const headers: TraceHeaders = { traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}` };
  const tracestate = spanContext.traceState?.serialize();
  if (tracestate) headers.tracestate = tracestate;
  return headers;
}

/**
 * The context a received message's span starts in: its sender's span as a remote parent, or
 * a new trace (the root context) when the message carries none (a Python peer's, an untraced
 * sender's, or one whose headers failed the checks).
 */
export function parentContext(headers: TraceHeaders | undefined): Context {
  if (headers === undefined) return ROOT_CONTEXT;
  // Checked on arrival: `{version}-{32 hex}-{16 hex}-{2 hex}[-...]`.
  const [, traceId, spanId, flags] = headers.traceparent.split('-', 4);
  const parent: SpanContext = { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16), isRemote: true };
  if (headers.tracestate !== undefined) parent.traceState = createTraceState(headers.tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, parent);
}
