/**
 * The spans of the receiving side, made where the handler runs (a worker thread, or the thread
 * of an inline bus): `rpc.execute` (SERVER) and `event.handle` (CONSUMER), children of the
 * sender's span the message carried. Each is the active span while its handler runs, so the
 * handler's own spans, and the calls and fires it makes, nest under it.
 */
import { context, SpanKind, trace, type Attributes, type Span } from '../vendor/opentelemetry.js';
import type { EventMessage, RpcCall } from '../transport/types.js';
import type { SerializedError } from '../errors.js';
import type { StreamLayout } from '../transport/wire/events.js';
import type { KeyLayout } from '../transport/wire/key-layout.js';
import { MESSAGING_SYSTEM } from './client-spans.js';
import { endFailed, endOk } from './outcome.js';
import { parentContext } from './trace-headers.js';
import { lightbusTracer } from './tracer.js';

/** An outcome as the handler runner reports it: a value, or an error as data. */
type Outcome = { ok: true } | { ok: false; error: SerializedError };

/** Runs `execute` (the handler of `call`, taken from `queue`, which never rejects) inside an `rpc.execute` span. */
export function traceRpcExecution<O extends Outcome>(call: RpcCall, queue: string, execute: () => Promise<O>): Promise<O> {
  return inSpan('rpc.execute', SpanKind.SERVER, call.trace, execute, {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'execute',
    'messaging.destination.name': queue,
    'messaging.message.id': call.id,
    'rpc.system': 'lightbus',
    'rpc.service': call.api,
    'rpc.method': call.procedure,
    'lightbus.api': call.api,
    'lightbus.procedure': call.procedure,
  });
}

/** Where a listener reads its events: its consumer group, and the layouts that name their streams. */
export interface EventSource {
  listener: string;
  group: string;
  layout: StreamLayout;
  keys: KeyLayout;
}

/** Runs `handle` (one attempt at one event, which never rejects) inside an `event.handle` span. */
export function traceEventHandling<O extends Outcome>(
  source: EventSource,
  message: EventMessage & { streamId: string },
  attempt: number,
  handle: () => Promise<O>,
): Promise<O> {
  return inSpan('event.handle', SpanKind.CONSUMER, message.trace, handle, {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'handle',
    'messaging.destination.name': source.keys.stream(message.api, message.event, source.layout),
    'messaging.consumer.group.name': source.group,
    'messaging.message.id': message.id,
    'lightbus.stream_id': message.streamId,
    'lightbus.api': message.api,
    'lightbus.event': message.event,
    'lightbus.listener': source.listener,
    'lightbus.attempt': attempt,
  });
}

/** Runs `run` (which never rejects) with a new span, child of the context `trace` carried, as the active span; ends it with the outcome. */
function inSpan<O extends Outcome>(name: string, kind: SpanKind, carried: Parameters<typeof parentContext>[0], run: () => Promise<O>, attributes: Attributes): Promise<O> {
  const parent = parentContext(carried);
  const span = lightbusTracer().startSpan(name, { kind, attributes }, parent);
  return context.with(trace.setSpan(parent, span), run).then((outcome) => ended(span, outcome));
}

function ended<O extends Outcome>(span: Span, outcome: O): O {
  if (outcome.ok) endOk(span);
  else endFailed(span, outcome.error);
  return outcome;
}
