// What a process bus writes to Redis with and without an OpenTelemetry SDK: untraced, a call's
// blob and an event's entry are exactly the contract's; traced, they carry the span that sent
// them (docs/wire-format.md, "Trace context").
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createBus } from '../../src/index.js';
import { cleanUpNames, REDIS_URL, streamOf, testNames } from '../runtime/helpers/bus-state.js';
import { waitFor } from '../helpers/wait.js';

const names = testNames('tracewire');
const redis = new Redis(REDIS_URL);
// Nobody serves the API: calls wait in its queue (whenNoServer 'wait'), where the test reads them.
const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent', apis: { default: { whenNoServer: 'wait' } } } });
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

after(async () => {
  await bus.close();
  await cleanUpNames(names);
  redis.disconnect();
  await provider.shutdown();
  trace.disable();
});

/** Sends one call nobody answers and returns its blob as it waits in the queue. */
async function queuedCallBlob(): Promise<Record<string, unknown>> {
  const queue = `${names.api}:rpc_queue`;
  const answered = bus.call(`${names.api}.nobody`, {}, { timeoutMs: 3000 }).then(
    () => assert.fail('nobody serves the API'),
    () => undefined,
  );
  const [blob] = await waitFor(async () => {
    const blobs = await redis.lrange(queue, 0, -1);
    return blobs.length > 0 ? blobs : undefined;
  }, 'the call in its queue');
  await redis.del(queue);
  await answered;
  return JSON.parse(blob!) as Record<string, unknown>;
}

/** Fires one event and returns its entry's fields. */
async function firedEntry(n: number): Promise<string[]> {
  const { streamId } = await bus.fire(`${names.api}.happened`, { n });
  const entries = (await redis.xrange(streamOf(names.api), streamId, streamId)) as Array<[string, string[]]>;
  return entries[0]![1];
}

test('without an SDK, calls and events carry no trace context', async () => {
  const blob = await queuedCallBlob();
  assert.deepEqual(blob['lightbus'], { timeout_ms: 3000 });
  const fields = await firedEntry(1);
  assert.deepEqual(fields.filter((_, i) => i % 2 === 0), ['id', 'api_name', 'event_name', 'version', ':n']);
});

test("with an SDK, a call carries its rpc.call span and an event its event.fire span, where Python looks at neither", async () => {
  provider.register();
  const blob = await queuedCallBlob();
  const call = exporter.getFinishedSpans().find((span) => span.name === 'rpc.call');
  assert.ok(call, 'the call made an rpc.call span');
  const extras = blob['lightbus'] as Record<string, unknown>;
  assert.equal(extras['traceparent'], `00-${call.spanContext().traceId}-${call.spanContext().spanId}-01`);
  assert.deepEqual(Object.keys(blob['metadata'] as object).sort(), ['api_name', 'id', 'procedure_name', 'return_path']);

  const fields = await firedEntry(2);
  const fire = exporter.getFinishedSpans().find((span) => span.name === 'event.fire');
  assert.ok(fire, 'the fire made an event.fire span');
  assert.deepEqual(fields.filter((_, i) => i % 2 === 0), ['id', 'api_name', 'event_name', 'version', ':n', '']);
  assert.deepEqual(JSON.parse(fields.at(-1)!), { traceparent: `00-${fire.spanContext().traceId}-${fire.spanContext().spanId}-01` });
  assert.equal(fire.attributes['messaging.message.id'], fields[1]);
});
