/**
 * Floors for events, with plain ioredis on a stream of this run: 20,000 XADD (the fields a
 * lightbus event has, and its `MAXLEN ~`) in one pipeline; then the read side as one listener
 * of lightbus reads by default: XREADGROUP COUNT 10 then XACK of the batch, one after another.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BenchContext } from '../lib/context.js';
import { withTimeout } from '../lib/measure.js';

const EVENTS = 20_000;
const READ_COUNT = 10;

export interface StreamFloor {
  xaddPipelinePerSecond: number;
  readAckPerSecond: number;
  readCount: number;
}

export async function measureStreamFloor(ctx: BenchContext): Promise<StreamFloor> {
  const stream = `bench:${ctx.runId}:floor:stream`;
  const redis = new Redis(ctx.redisUrl);
  try {
    await redis.xgroup('CREATE', stream, 'floor', '$', 'MKSTREAM');
    const pipeline = redis.pipeline();
    for (let seq = 0; seq < EVENTS; seq++) {
      pipeline.xadd(stream, 'MAXLEN', '~', 100_000, '*', 'id', randomUUID(), 'api_name', 'bench', 'event_name', 'tick', 'version', '1', ':seq', String(seq), ':last', 'false');
    }
    const start = performance.now();
    const replies = await withTimeout(pipeline.exec(), 30_000, 'pipelined XADD');
    const xaddMs = performance.now() - start;
    if (!replies || replies.some(([error]) => error)) throw new Error('pipelined XADD failed');

    const readStart = performance.now();
    let read = 0;
    while (read < EVENTS) {
      const reply = (await redis.xreadgroup('GROUP', 'floor', 'c1', 'COUNT', READ_COUNT, 'STREAMS', stream, '>')) as Array<[string, Array<[string, string[]]>]> | null;
      const ids = (reply?.[0]?.[1] ?? []).map(([id]) => id);
      if (ids.length === 0) throw new Error('stream floor: the stream ran dry early');
      await redis.xack(stream, 'floor', ...ids);
      read += ids.length;
    }
    const readMs = performance.now() - readStart;
    return { xaddPipelinePerSecond: (EVENTS / xaddMs) * 1000, readAckPerSecond: (EVENTS / readMs) * 1000, readCount: READ_COUNT };
  } finally {
    redis.disconnect();
  }
}
