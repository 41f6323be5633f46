// One trace across processes and threads: the test's process calls `outer` on a real
// `lightbus run` (worker threads, or --inline; Redis); `outer`'s handler makes a span of its own and
// calls `inner`, which fires `done`, which a listener handles. Every span lightbus makes must
// be in the caller's trace with the right parent, handlers' own spans nested under theirs in the
// thread that ran them, and a failing handler must end its spans with an error.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createBus, RemoteError } from '../../src/index.js';
import { tracingOn } from '../../src/tracing/tracer.js';
import { cleanUpNames, fixtureEnv, groupOf, readTally, REDIS_URL, streamOf, testNames } from '../runtime/helpers/bus-state.js';
import { cleanUpRunners, startRunner, type RunnerProcess } from '../runtime/helpers/runner-process.js';
import { waitFor } from '../helpers/wait.js';
import { Redis } from 'ioredis';

/** A span as the fixture's workers write it (test/fixtures/traced.ts). */
interface WorkerSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  events: Array<{ name: string; attributes?: Record<string, unknown> }>;
  threadId: number;
}

/** How the runner runs the fixture. */
export interface TraceSuiteOptions {
  /** Worker threads; 0 with `--inline` in `args`. */
  workers: number;
  args: string[];
}

/** The suite, against one `lightbus run` of test/fixtures/traced.ts. */
export function traceSuite(label: string, options: TraceSuiteOptions): void {
  describe(label, () => {
    const names = testNames('traced');
    const dir = mkdtempSync(join(tmpdir(), 'lightbus-spans-'));
    const spansFile = join(dir, 'spans.jsonl');
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const redis = new Redis(REDIS_URL);
    let runner: RunnerProcess;
    let workerSpans: WorkerSpan[] = [];
    let outerTraceId = '';
    let rootSpanId = '';
    let failure: unknown;

    // Registered after the check below: without an SDK, lightbus makes no span.
    assert.equal(tracingOn(), false, 'no SDK registered yet');
    provider.register();
    const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });

    before(async () => {
      assert.equal(tracingOn(), true, 'an SDK is registered');
      runner = await startRunner({
        modules: ['traced.ts'],
        serviceName: names.service,
        ...(options.workers > 0 ? { workers: options.workers } : {}),
        args: options.args,
        config: { logLevel: 'info' },
        env: fixtureEnv(names, REDIS_URL, { FIXTURE_SPANS: spansFile }),
      });
      await runner.ready();
      await trace.getTracer('test').startActiveSpan('test.root', async (root) => {
        outerTraceId = root.spanContext().traceId;
        rootSpanId = root.spanContext().spanId;
        try {
          assert.equal(await bus.call(`${names.api}.outer`, { n: 1 }, { timeoutMs: 15_000 }), 2);
          failure = await bus.call(`${names.api}.fails`, {}, { timeoutMs: 15_000 }).then(
            () => undefined,
            (error: unknown) => error,
          );
        } finally {
          root.end();
        }
      });
      await waitFor(async () => (await readTally(redis, names))['handled'] === 1, 'the listener to handle the event', 15_000);
      // The workers' batch processors hold every span until their threads stop.
      const exit = await runner.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, runner.tail());
      workerSpans = readFileSync(spansFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as WorkerSpan);
    });

    after(async () => {
      await bus.close();
      await cleanUpRunners();
      await cleanUpNames(names);
      redis.disconnect();
      await provider.shutdown();
      trace.disable();
      rmSync(dir, { recursive: true, force: true });
    });

    function callerSpan(name: string, procedure: string): ReadableSpan {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name && s.attributes['rpc.method'] === procedure);
      assert.equal(found.length, 1, `one ${name} span for ${procedure} in the caller, got ${found.length}`);
      return found[0]!;
    }

    function workerSpan(name: string, match: (span: WorkerSpan) => boolean = () => true): WorkerSpan {
      const found = workerSpans.filter((s) => s.name === name && match(s));
      assert.equal(found.length, 1, `one ${name} span in the workers, got ${found.length}: ${JSON.stringify(workerSpans.map((s) => s.name))}`);
      return found[0]!;
    }

    test('caller, server worker, nested call, fire and listener are one trace, each span the child of the one before', () => {
      const call = callerSpan('rpc.call', 'outer');
      assert.equal(call.spanContext().traceId, outerTraceId);
      assert.equal(call.parentSpanContext?.spanId, rootSpanId, "the caller's span is a child of the span active where bus.call ran");
      assert.equal(call.kind, SpanKind.CLIENT);

      const outer = workerSpan('rpc.execute', (s) => s.attributes['rpc.method'] === 'outer');
      const own = workerSpan('outer.work');
      const nestedCall = workerSpan('rpc.call', (s) => s.attributes['rpc.method'] === 'inner');
      const inner = workerSpan('rpc.execute', (s) => s.attributes['rpc.method'] === 'inner');
      const fire = workerSpan('event.fire');
      const handle = workerSpan('event.handle');
      const listenerOwn = workerSpan('listener.work');

      const chain: Array<[string, { traceId: string; parentSpanId?: string }, string]> = [
        ['rpc.execute outer', outer, call.spanContext().spanId],
        ["outer's own span", own, outer.spanId],
        ['the nested rpc.call', nestedCall, own.spanId],
        ['rpc.execute inner', inner, nestedCall.spanId],
        ['event.fire', fire, inner.spanId],
        ['event.handle', handle, fire.spanId],
        ["the listener's own span", listenerOwn, handle.spanId],
      ];
      for (const [what, span, parent] of chain) {
        assert.equal(span.traceId, outerTraceId, `${what} is in the caller's trace`);
        assert.equal(span.parentSpanId, parent, `${what} has the right parent`);
      }
      assert.deepEqual([outer.kind, nestedCall.kind, inner.kind, fire.kind, handle.kind], [SpanKind.SERVER, SpanKind.CLIENT, SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER]);
      // A handler's own span is made in the worker thread that ran the handler, not the main thread.
      assert.equal(own.threadId, outer.threadId);
      assert.equal(listenerOwn.threadId, handle.threadId);
      if (options.workers > 0) assert.notEqual(outer.threadId, 0, 'the handler ran in a worker thread');
      else assert.equal(outer.threadId, 0, 'with --inline, the handler ran in the main thread');
    });

    test('the spans carry the messaging attributes: system, destination, message and stream ids, listener and group, outcome', () => {
      const outer = workerSpan('rpc.execute', (s) => s.attributes['rpc.method'] === 'outer');
      assert.equal(outer.attributes['messaging.system'], 'redis');
      assert.equal(outer.attributes['messaging.destination.name'], `${names.api}:rpc_queue`);
      assert.equal(outer.attributes['rpc.service'], names.api);
      assert.equal(outer.attributes['lightbus.outcome'], 'ok');
      assert.match(String(outer.attributes['messaging.message.id']), /^[0-9a-f-]{36}$/);
      assert.equal(callerSpan('rpc.call', 'outer').attributes['lightbus.outcome'], 'ok');

      const fire = workerSpan('event.fire');
      const handle = workerSpan('event.handle');
      assert.equal(fire.attributes['messaging.destination.name'], streamOf(names.api));
      assert.equal(handle.attributes['messaging.destination.name'], streamOf(names.api));
      assert.equal(handle.attributes['messaging.message.id'], fire.attributes['messaging.message.id']);
      assert.equal(handle.attributes['lightbus.stream_id'], fire.attributes['lightbus.stream_id']);
      assert.match(String(handle.attributes['lightbus.stream_id']), /^\d+-\d+$/);
      assert.equal(handle.attributes['lightbus.listener'], 'traced_listener');
      assert.equal(handle.attributes['messaging.consumer.group.name'], groupOf(names.service, 'traced_listener'));
      assert.equal(handle.attributes['lightbus.event'], 'done');
      assert.equal(handle.attributes['lightbus.attempt'], 1);
      assert.equal(handle.attributes['lightbus.outcome'], 'ok');
    });

    test("a failing handler ends its rpc.execute span with the error, and the caller's rpc.call span too", () => {
      assert.ok(failure instanceof RemoteError, String(failure));
      const execute = workerSpan('rpc.execute', (s) => s.attributes['rpc.method'] === 'fails');
      assert.equal(execute.traceId, outerTraceId);
      assert.equal(execute.status.code, SpanStatusCode.ERROR);
      assert.equal(execute.status.message, 'LedgerClosed: the ledger is closed');
      assert.equal(execute.attributes['error.type'], 'LedgerClosed');
      assert.equal(execute.attributes['lightbus.outcome'], 'error');
      const exception = execute.events.find((e) => e.name === 'exception');
      assert.equal(exception?.attributes?.['exception.type'], 'LedgerClosed');
      assert.match(String(exception?.attributes?.['exception.stacktrace']), /LedgerClosed: the ledger is closed/);

      const call = callerSpan('rpc.call', 'fails');
      assert.equal(call.status.code, SpanStatusCode.ERROR);
      assert.equal(call.attributes['error.type'], 'RemoteError');
      assert.equal(execute.parentSpanId, call.spanContext().spanId);
    });
  });
}
