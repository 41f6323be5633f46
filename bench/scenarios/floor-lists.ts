/**
 * Floor for RPCs: list ping-pong between two processes with plain ioredis (the echo side is
 * bench/fixtures/redis-echo.ts). Serial: the caller has BLPOP waiting on its reply list while
 * it LPUSHes the request, the echo BLPOPs it and LPUSHes the reply, as a lightbus call does at
 * the least. Batched: 64 in flight, both sides draining their lists in bulk.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { BenchContext } from '../lib/context.js';
import { startFixture, stopChild } from '../lib/children.js';
import type { CpuPerOperation } from '../lib/cpu.js';
import { summarize, timeSerial, withTimeout, type LatencySummary } from '../lib/measure.js';

const WARMUP = 300;
const SERIAL_CALLS = 5000;
const IN_FLIGHT = 64;
const BATCHED_MS = 2000;

export interface ListFloor {
  serial: LatencySummary & { perSecond: number; cpu: CpuPerOperation };
  batched: { inFlight: number; perSecond: number; cpu: CpuPerOperation };
}

export async function measureListFloor(ctx: BenchContext): Promise<ListFloor> {
  const prefix = `bench:${ctx.runId}`;
  const echoPid = await startFixture('redis-echo', [ctx.redisUrl, prefix]);
  const send = new Redis(ctx.redisUrl);
  const receive = new Redis(ctx.redisUrl);
  try {
    const pingPong = async (i: number) => {
      const reply = receive.blpop(`${prefix}:floor:resp1`, 5);
      await send.lpush(`${prefix}:floor:req1`, String(i));
      if (!(await reply)) throw new Error('list ping-pong: no reply within 5 s');
    };
    const cpu = ctx.cpu.forServer(echoPid);
    await withTimeout(timeSerial(WARMUP, pingPong), 30_000, 'list ping-pong warm-up');
    const serialStart = cpu.snapshot();
    const samples = await withTimeout(timeSerial(SERIAL_CALLS, pingPong), 60_000, 'list ping-pong');
    const serialCpu = cpu.perOperation(serialStart, SERIAL_CALLS);
    const serial = summarize(samples);
    const batchedStart = cpu.snapshot();
    const batched = await withTimeout(batchedPingPong(send, receive, prefix), BATCHED_MS + 10_000, 'batched list ping-pong');
    const batchedCpu = cpu.perOperation(batchedStart, batched.completed);
    return { serial: { ...serial, perSecond: 1000 / serial.mean, cpu: serialCpu }, batched: { inFlight: batched.inFlight, perSecond: batched.perSecond, cpu: batchedCpu } };
  } finally {
    send.disconnect();
    receive.disconnect();
    await stopChild(echoPid, 3000);
  }
}

/** Keeps IN_FLIGHT requests in the echo's list; every reply drained is replaced by a request. */
async function batchedPingPong(send: Redis, receive: Redis, prefix: string): Promise<{ inFlight: number; perSecond: number; completed: number }> {
  const requests = `${prefix}:floor:reqN`;
  const replies = `${prefix}:floor:respN`;
  const burst = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  await send.lpush(requests, ...burst(IN_FLIGHT));
  const start = performance.now();
  const deadline = start + BATCHED_MS;
  let inFlight = IN_FLIGHT;
  let completed = 0;
  let answered = 0;
  let last = start;
  while (inFlight > 0) {
    const first = await receive.blpop(replies, 5);
    if (!first) throw new Error('batched list ping-pong: no reply within 5 s');
    const got = 1 + ((await receive.lpop(replies, 1000)) ?? []).length;
    inFlight -= got;
    answered += got;
    if (performance.now() < deadline) {
      completed += got;
      last = performance.now();
      void send.lpush(requests, ...burst(got));
      inFlight += got;
    }
  }
  // CPU is read after the drain, so it is divided by every answer, the drained ones included.
  return { inFlight: IN_FLIGHT, perSecond: (completed / (last - start)) * 1000, completed: answered };
}
