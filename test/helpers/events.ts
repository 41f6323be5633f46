/**
 * Small helpers for event transport tests: a log capture, bounded waits (never timing
 * assertions), event factories and a `take` that calls `next` until enough arrived.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import type { DeliveredEvent, EventConsumer, EventMessage } from '../../src/transport/types.js';

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger at debug level whose records land in `records`. */
export function capturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

/** Resolves with `promise`, or rejects after `ms` (a bound on waits, never a timing assertion). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    }),
  ]);
}

/** Polls `condition` until it holds, up to `ms`. */
export async function eventually(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: still false after ${ms} ms`);
    await sleep(10);
  }
}

export function newEvent(api: string, event: string, kwargs: Record<string, unknown> = {}): EventMessage {
  return { id: randomUUID(), api, event, version: 1, kwargs };
}

/** A uuid in the version-1 layout Python Lightbus uses for ids. */
export function uuid1Like(): string {
  const hex = randomUUID().replace(/-/g, '');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-1${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Calls `next` until `count` events came out. */
export async function take(consumer: EventConsumer, count: number, ms = 10_000): Promise<DeliveredEvent[]> {
  const events: DeliveredEvent[] = [];
  const deadline = Date.now() + ms;
  while (events.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`expected ${count} events, got ${events.length}`);
    events.push(...(await within(consumer.next(count - events.length), left, `waiting for event ${events.length + 1} of ${count}`)));
  }
  return events;
}

/** Whether a promise settled by now (checked after letting pending callbacks run). */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(0);
  return done;
}
