/**
 * How a lightbus span ends: its outcome (`lightbus.outcome`), and for a failure the error's
 * class (`error.type`), an exception event with its message and stack, and the ERROR status.
 */
import { SpanStatusCode, type Span } from '../vendor/opentelemetry.js';

/** What a failure is known by: a thrown error, or one that crossed a thread as data. */
export interface SpanError {
  name: string;
  message: string;
  stack?: string;
}

/** Ends `span` as a success. */
export function endOk(span: Span): void {
  span.setAttribute('lightbus.outcome', 'ok');
  span.end();
}

/** Ends `span` as a failure of `error`. */
export function endFailed(span: Span, error: unknown): void {
  const failure = asSpanError(error);
  span.setAttribute('lightbus.outcome', 'error');
  span.setAttribute('error.type', failure.name);
  span.recordException(failure.stack === undefined ? { name: failure.name, message: failure.message } : failure);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${failure.name}: ${failure.message}` });
  span.end();
}

function asSpanError(error: unknown): SpanError {
  if (typeof error === 'object' && error !== null && typeof (error as SpanError).name === 'string' && typeof (error as SpanError).message === 'string') {
    const { name, message, stack } = error as SpanError;
    return typeof stack === 'string' ? { name, message, stack } : { name, message };
  }
  return { name: 'Error', message: String(error) };
}
