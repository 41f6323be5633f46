/**
 * Whether spans are made at all, and the tracer that makes them. The user brings the SDK;
 * without one registered, every hot path asks {@link tracingOn} (a few property reads, no
 * allocation) and does nothing more. Asked per message, not once, so an SDK registered after
 * lightbus loaded (in `onStart`, in a test) is seen from its next message on.
 */
import { createRequire } from 'node:module';
import { ProxyTracerProvider, trace, type Tracer, type TracerProvider } from '../vendor/opentelemetry.js';

/** The instrumentation scope of every span lightbus makes. */
export const TRACER_NAME = 'lightbus';
const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** What the API's own provider delegates to while no SDK is registered (a singleton of this copy). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True once an SDK's tracer provider is registered globally. Without one, the API hands back
 * this copy's own proxy, delegating to its no-op provider; a registered provider is either that
 * proxy with a real delegate, or the proxy of the user's copy of the API.
 */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

let cached: { provider: TracerProvider; tracer: Tracer } | undefined;

/** The lightbus tracer of the registered SDK, fetched once per provider (an SDK's getTracer builds a key string). */
export function lightbusTracer(): Tracer {
  const provider = registeredProvider();
  if (cached?.provider !== provider) cached = { provider, tracer: provider.getTracer(TRACER_NAME, version) };
  return cached.tracer;
}

/**
 * Exports the spans this thread's SDK still buffers (a batch processor's), within `timeoutMs`:
 * a worker thread ends at shutdown and its buffers with it. Nothing to do without an SDK.
 */
export async function flushSpans(timeoutMs: number): Promise<void> {
  if (!tracingOn()) return;
  const provider = registeredProvider() as TracerProvider & { forceFlush?: () => Promise<void> };
  if (typeof provider.forceFlush !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  try {
    await Promise.race([provider.forceFlush().catch(() => undefined), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SDK's provider behind the global proxy (whichever copy of the API the proxy is from). */
function registeredProvider(): TracerProvider {
  const provider = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  return typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
}
