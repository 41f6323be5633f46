/**
 * The spans of the sending side, made by the bus in the thread whose code calls or fires:
 * `rpc.call` (CLIENT) and `event.fire` (PRODUCER), children of whatever span is active there
 * (a handler's `rpc.execute`, or the user's own). Each is active while its message is built,
 * and its context goes with the message (`send` gets the headers).
 */
import { context, SpanKind, trace, type Span } from '../vendor/opentelemetry.js';
import type { TraceHeaders } from '../transport/types.js';
import { endFailed, endOk } from './outcome.js';
import { headersOf } from './trace-headers.js';
import { lightbusTracer } from './tracer.js';

/** The attributes every lightbus span has: the messaging system is Redis. */
export const MESSAGING_SYSTEM = 'redis';

/** Runs `send` (a call to `api.procedure`, pushed to `queue`) inside an `rpc.call` span that ends with its outcome. */
export function traceRpcCall<T>(api: string, procedure: string, queue: string, send: (trace: TraceHeaders | undefined) => Promise<T>): Promise<T> {
  const span = lightbusTracer().startSpan('rpc.call', {
    kind: SpanKind.CLIENT,
    attributes: {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'call',
      'messaging.destination.name': queue,
      'rpc.system': 'lightbus',
      'rpc.service': api,
      'rpc.method': procedure,
      'lightbus.api': api,
      'lightbus.procedure': procedure,
    },
  });
  return inSpan(span, send, () => endOk(span));
}

/** Runs `send` (a fire of `api.event` to `stream`) inside an `event.fire` span; its message and stream ids are added when it is written. */
export function traceFire<T extends { id: string; streamId: string }>(
  api: string,
  event: string,
  stream: string,
  send: (trace: TraceHeaders | undefined) => Promise<T>,
): Promise<T> {
  const span = lightbusTracer().startSpan('event.fire', {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'fire',
      'messaging.destination.name': stream,
      'lightbus.api': api,
      'lightbus.event': event,
    },
  });
  return inSpan(span, send, (fired) => {
    span.setAttribute('messaging.message.id', fired.id);
    span.setAttribute('lightbus.stream_id', fired.streamId);
    endOk(span);
  });
}

function inSpan<T>(span: Span, send: (trace: TraceHeaders | undefined) => Promise<T>, succeeded: (value: T) => void): Promise<T> {
  let sent: Promise<T>;
  try {
    sent = context.with(trace.setSpan(context.active(), span), send, undefined, headersOf(span));
  } catch (error) {
    endFailed(span, error);
    throw error;
  }
  return sent.then(
    (value) => {
      succeeded(value);
      return value;
    },
    (error: unknown) => {
      endFailed(span, error);
      throw error;
    },
  );
}
