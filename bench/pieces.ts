/**
 * `node --import tsx bench/pieces.ts` (after `npm run build`): the pieces the figures of
 * `npm run bench` are made of, measured side by side in one run, to see what dominates:
 *
 * - a Redis round trip (PING), a worker thread's start (to its `ready`) and a main-thread <->
 *   worker-thread round trip (postMessage);
 * - the RPC round trip and 64-in-flight rate to a process bus serving inline in another
 *   process (no worker threads) and to `lightbus run --workers 2`: the difference is the
 *   worker pool;
 * - firing alone (events nobody listens to) and handling alone (a stream filled by raw
 *   pipelined XADD, then drained by the `lightbus run` listener).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Bus } from 'lightbus';
import { benchApis } from './fixtures/bench-api.js';
import { repoRoot, startFixture, stopChild } from './lib/children.js';
import type { BenchContext } from './lib/context.js';
import { formatMs, formatRate } from './lib/report.js';
import { runConcurrently, summarize, timeSerial, wallClockMs, withTimeout, type LatencySummary } from './lib/measure.js';
import { Session } from './lib/session.js';
import { echoOnce } from './scenarios/rpc-latency.js';

const session = new Session(150_000);
const EVENTS = 20_000;
const lines: string[] = [];
const show = (label: string, text: string) => lines.push(`${label.padEnd(58)} ${text}`);
const latency = (s: LatencySummary) => `p50 ${formatMs(s.p50)}, p99 ${formatMs(s.p99)}, mean ${formatMs(s.mean)}`;

async function workerRoundTrip(): Promise<LatencySummary> {
  const worker = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));`, { eval: true });
  // Shaped like the pool's execute-rpc message and its answer.
  const message = { type: 'execute-rpc', requestId: 1, executionId: 1, call: { id: randomUUID(), api: 'bench', procedure: 'echo', kwargs: { text: 'hello', n: 1 }, returnPath: 'redis+key://x' } };
  const hop = () => new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(message);
  });
  try {
    await timeSerial(1000, hop);
    return summarize(await timeSerial(5000, hop));
  } finally {
    await worker.terminate();
  }
}

type MainRpcs = BenchContext['apis']['main']['rpcs'];

interface RpcPieces {
  serial: LatencySummary;
  /** From `call()` to the handler running. */
  there: LatencySummary;
  /** From the handler running to `call()` resolving. */
  back: LatencySummary;
  perSecond: number;
}

async function rpcPieces(caller: Bus, rpcs: MainRpcs): Promise<RpcPieces> {
  const { echo, stamp } = rpcs;
  let n = 0;
  await timeSerial(500, () => echoOnce(caller, echo, n++));
  const serial = summarize(await timeSerial(3000, () => echoOnce(caller, echo, n++)));
  const there: number[] = [];
  const back: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const sent = wallClockMs();
    const ranAt = await caller.call(stamp, {});
    const answered = wallClockMs();
    there.push(ranAt - sent);
    back.push(answered - ranAt);
  }
  await runConcurrently(64, 1000, () => echoOnce(caller, echo, n++));
  const { completed, elapsedMs } = await runConcurrently(64, 3000, () => echoOnce(caller, echo, n++));
  return { serial, there: summarize(there), back: summarize(back), perSecond: (completed / elapsedMs) * 1000 };
}

function showRpc(target: string, pieces: RpcPieces): void {
  show(`RPC to ${target}, 1 in flight`, latency(pieces.serial));
  show('  of which: call() -> handler runs', latency(pieces.there));
  show('  of which: handler runs -> call() resolves', latency(pieces.back));
  show(`RPC to ${target}, 64 in flight`, formatRate(pieces.perSecond));
}

/** Fires EVENTS events nobody listens to, all at once; returns fires per second. */
async function fireAlone(ctx: BenchContext): Promise<number> {
  const start = wallClockMs();
  await Promise.all(Array.from({ length: EVENTS }, (_, seq) => ctx.caller.fire(ctx.apis.unheard.events.tick, { seq, last: false })));
  return (EVENTS / (wallClockMs() - start)) * 1000;
}

/** Writes EVENTS tick events in the wire format with one raw pipeline; returns how fast the child's listener handled them. */
async function handleAlone(ctx: BenchContext, firstSeq: number): Promise<{ writePerSecond: number; handledPerSecond: number }> {
  const stream = `${ctx.apis.main.name}.*:stream`;
  const lastSeq = firstSeq + EVENTS - 1;
  const drained = ctx.reports.waitFor<{ seq: number; handledAt: number }>('drained', lastSeq, 60_000);
  drained.catch(() => undefined);
  const pipeline = ctx.redis.pipeline();
  for (let seq = firstSeq; seq <= lastSeq; seq++) {
    const fields = ['id', randomUUID(), 'api_name', ctx.apis.main.name, 'event_name', 'tick', 'version', '1', ':seq', String(seq), ':last', String(seq === lastSeq)];
    pipeline.xadd(stream, 'MAXLEN', '~', 100_000, '*', ...fields);
  }
  const start = wallClockMs();
  await pipeline.exec();
  const written = wallClockMs();
  const { handledAt } = await drained;
  return { writePerSecond: (EVENTS / (written - start)) * 1000, handledPerSecond: (EVENTS / (handledAt - start)) * 1000 };
}

/**
 * A worker thread of `lightbus run`, from `new Worker` to its `ready` (the bench bus module
 * loaded, TypeScript compiled from jiti's cache), one at a time: what each replacement of a
 * crashed thread, and each run of an event on the quarantine thread, waits for.
 */
async function workerStart(): Promise<LatencySummary> {
  const { WorkerHandle } = await import('../dist/runtime/worker-handle.js');
  const { loadConfig } = await import('../dist/config/index.js');
  const { silentLogger } = await import('../dist/logging/logger.js');
  // The worker's own copy of process.env: the bench bus reads its API names from it.
  process.env['BENCH_PREFIX'] = `${session.runId}_start`;
  const config = await loadConfig({ cwd: repoRoot });
  const logger = silentLogger();
  const startOne = async () => {
    const handle = new WorkerHandle({
      workerId: 1,
      modules: [join(repoRoot, 'bench/fixtures/bench-bus.ts')],
      config,
      logger,
      writeLog: () => undefined,
      onCommand: async () => ({ ok: true, value: null }),
      onExit: () => undefined,
    });
    await handle.ready;
    await handle.terminate();
  };
  await timeSerial(2, startOne);
  return summarize(await timeSerial(10, startOne));
}

async function main(): Promise<void> {
  const ctx = await session.step('starting lightbus run --workers 2', 60_000, () => session.start());
  if (!ctx) throw new Error('lightbus run did not start');
  await session.step('PING', 20_000, async () => {
    await timeSerial(500, () => ctx.redis.ping());
    show('Redis round trip (PING, ioredis)', latency(summarize(await timeSerial(5000, () => ctx.redis.ping()))));
  });
  await session.step('worker start', 60_000, async () => show('worker thread start, new Worker -> ready (bench bus)', latency(await workerStart())));
  await session.step('worker round trip', 20_000, async () => show('main <-> worker thread round trip (postMessage)', latency(await workerRoundTrip())));
  await session.step('RPC to an inline process bus', 40_000, async () => {
    const inlinePrefix = `${session.runId}_inline`;
    const pid = await startFixture('inline-server', [session.redisUrl, inlinePrefix]);
    try {
      showRpc('a process bus in another process', await rpcPieces(ctx.caller, benchApis(inlinePrefix).main.rpcs));
    } finally {
      await stopChild(pid, 5000);
    }
  });
  await session.step('RPC to lightbus run', 40_000, async () => {
    showRpc('lightbus run --workers 2', await rpcPieces(ctx.caller, ctx.apis.main.rpcs));
  });
  await session.step('firing alone', 60_000, async () => show(`fire ${EVENTS.toLocaleString('en-US')} events at once, nobody listening`, formatRate(await fireAlone(ctx))));
  await session.step('handling alone', 90_000, async () => {
    const { writePerSecond, handledPerSecond } = await withTimeout(handleAlone(ctx, 0), 80_000, 'handling alone');
    show(`raw pipelined XADD of ${EVENTS.toLocaleString('en-US')} events`, formatRate(writePerSecond));
    show('  ...handled by the lightbus run listener (from the first XADD)', formatRate(handledPerSecond));
  });
  await session.finish();
  console.log(`\n${lines.join('\n')}`);
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(`bench: ${(error as Error).stack ?? String(error)}`);
    await session.abort(1);
  },
);
