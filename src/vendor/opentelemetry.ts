/**
 * The OpenTelemetry API, as src/tracing/ imports it; `npm run build` bundles this file
 * (scripts/bundle-vendor.js), as it does typebox.ts, so a worker thread loads one file, not the
 * 65 CommonJS modules of the package. The API keeps its state under `Symbol.for` keys on the
 * global object (the tracer provider, the context manager, the span's context key), so the SDK a
 * user registers with their own copy of `@opentelemetry/api` is the one this copy sees.
 */
export {
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  createTraceState,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
