/**
 * W3C Trace Context on the wire (docs/wire-format.md, "Trace context"): where a call and an
 * event carry `traceparent`/`tracestate`, and the checks every received value passes. Pure.
 *
 * Where it goes is decided by what Python Lightbus 1.x ignores (read in
 * `lightbus/serializers/blob.py`, `by_field.py`, `base.py` and `lightbus/message.py`):
 *
 * - A call blob is read with `decoded.get("metadata")` and `decoded.get("kwargs")`: a top-level
 *   field is ignored, while an extra metadata field breaks `RpcMessage(**metadata)`. So the
 *   context goes in the call's top-level `lightbus` object, beside `timeout_ms`.
 * - An event entry is read field by field: a field whose name starts with `:` becomes a
 *   parameter (its handler would get it), any other becomes metadata (and breaks
 *   `EventMessage(**metadata)`), and a field with an EMPTY NAME is skipped (`if not k:
 *   continue`, tested by Python's `test_by_field_deserializer_empty_keys_and_values`). So the
 *   context goes in a field with an empty name, its value a small JSON object. An entry whose
 *   only field is `""` = `""` stays the noop entry: ours always has the event's fields too.
 *
 * Received values come from any writer of the bus: they are bounded, checked against the
 * format, and ignored (the message is handled as untraced) when they fail.
 */
import type { TraceHeaders } from '../types.js';

/** The name of the event entry's field holding the context (Python skips empty names). */
export const EVENT_TRACE_FIELD = '';

/** Longest `traceparent` accepted: version 00 has 55 characters; later versions may append fields. */
const MAX_TRACEPARENT_CHARS = 256;
/** Longest `tracestate` kept: the length W3C asks every vendor to propagate (and the OpenTelemetry API's limit). */
const MAX_TRACESTATE_CHARS = 512;
/** Longest event field read: both values at their longest, quoted, with their names. */
const MAX_EVENT_FIELD_CHARS = 1024;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZEROS = /^0+$/;
/** Printable ASCII without `"` or `\`: what a tracestate list may contain (members are checked by the API). */
const TRACESTATE_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * The trace headers, when `traceparent` is a valid W3C value: version not `ff`, ids of lower
 * hex digits and not all zeros, version 00 with nothing after its flags. A `tracestate` that
 * is not text within bounds is dropped alone, as W3C asks: the parent still holds.
 */
export function checkTraceHeaders(traceparent: unknown, tracestate: unknown): TraceHeaders | undefined {
  if (typeof traceparent !== 'string' || traceparent.length > MAX_TRACEPARENT_CHARS) return undefined;
  const parts = TRACEPARENT.exec(traceparent);
  if (!parts) return undefined;
  const [, version, traceId, spanId, , rest] = parts;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ALL_ZEROS.test(traceId!) || ALL_ZEROS.test(spanId!)) return undefined;
  const headers: TraceHeaders = { traceparent };
  if (typeof tracestate === 'string' && tracestate !== '' && tracestate.length <= MAX_TRACESTATE_CHARS && TRACESTATE_TEXT.test(tracestate)) {
    headers.tracestate = tracestate;
  }
  return headers;
}

/** The context as the keys of a call's `lightbus` object (or of the event field's JSON). */
export function traceFields(trace: TraceHeaders): { traceparent: string; tracestate?: string } {
  return trace.tracestate === undefined ? { traceparent: trace.traceparent } : { traceparent: trace.traceparent, tracestate: trace.tracestate };
}

/** The context read back from a call's `lightbus` object (already known to be a plain object). */
export function traceFromExtras(extras: Record<string, unknown>): TraceHeaders | undefined {
  return extras['traceparent'] === undefined ? undefined : checkTraceHeaders(extras['traceparent'], extras['tracestate']);
}

/** The value of an event's context field: `{"traceparent": "...", "tracestate": "..."}`. */
export function encodeEventTrace(trace: TraceHeaders): string {
  return JSON.stringify(traceFields(trace));
}

/** The context of an event's empty-named field, or undefined when it is absent, too long or invalid. */
export function decodeEventTrace(value: string): TraceHeaders | undefined {
  if (value === '' || value.length > MAX_EVENT_FIELD_CHARS) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const fields = parsed as Record<string, unknown>;
  return checkTraceHeaders(fields['traceparent'], fields['tracestate']);
}
