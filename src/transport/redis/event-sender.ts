/**
 * Writes events: every event sent in one turn of the event loop leaves in ONE script run that
 * does their `XADD`s one by one and answers each event's stream id (or its own error). The
 * entries are exactly the plain `XADD {stream} MAXLEN ~ N * fields` of the wire contract; only
 * the way they reach Redis differs. The fields of the whole run travel as one JSON argument
 * that the script (lua/xadds.lua) decodes with `cjson`, because ioredis spends per argument
 * (flattening, writing) what Redis spends no more on decoding: see docs/benchmark.md, figure 3.
 */
import type { SendReceiver } from '../types.js';
import type { RedisConnection } from './connection.js';
import { TickBatcher } from './tick-batcher.js';
import { withScripts, type ScriptedConnection } from './scripts.js';
import { slotGroup } from '../wire/key-layout.js';

/** Events in one script run: big enough to amortise the command, small enough that Redis is not held for long (~1 ms). */
const MAX_EVENTS_PER_RUN = 300;
/** Characters of field text in one script run, so a burst of large events is split too. */
const MAX_CHARS_PER_RUN = 1_000_000;
/** Lua's `unpack` cannot spread more values than this (LUAI_MAXCSTACK is 8000): larger events get a plain XADD. */
const MAX_FIELDS_IN_SCRIPT = 7000;
/**
 * How JSON.stringify writes a lone surrogate (`\udXXX`), which cjson refuses. Sent as a plain
 * argument, such a string would have become U+FFFD in its UTF-8 bytes: the rare run with one
 * (or with text that merely looks like one) is made well-formed the same way first.
 */
const ESCAPED_SURROGATE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /\p{Surrogate}/gu;

interface Pending {
  streamIndex: number;
  fields: string[];
  receiver: SendReceiver;
}

/** Queues events per turn of the loop and writes each turn's worth with one script run (split at the limits above). */
export class EventSender extends TickBatcher {
  private readonly connection: ScriptedConnection;
  private readonly trim: string;
  private streams: string[] = [];
  private streamIndex = new Map<string, number>();
  private queue: Pending[] = [];
  private chars = 0;

  /**
   * @param perSlot on a Redis Cluster: one script run per slot of a tick's streams (per stream,
   *   or per API with the hash-tagged keys), since a script's keys must share a slot.
   */
  constructor(connection: RedisConnection, maxStreamLength: number | null, private readonly perSlot = false) {
    super();
    this.connection = withScripts(connection);
    this.trim = maxStreamLength === null ? '' : String(maxStreamLength);
  }

  /** Tells the receiver the entry's stream id once Redis has it, or this XADD's own error. */
  send(stream: string, fields: string[], receiver: SendReceiver): void {
    if (fields.length > MAX_FIELDS_IN_SCRIPT) return this.sendAlone(stream, fields, receiver);
    let streamIndex = this.streamIndex.get(stream);
    if (streamIndex === undefined) {
      streamIndex = this.streams.push(stream);
      this.streamIndex.set(stream, streamIndex);
    }
    this.queue.push({ streamIndex, fields, receiver });
    for (const field of fields) this.chars += field.length;
    this.queued(this.queue.length >= MAX_EVENTS_PER_RUN || this.chars >= MAX_CHARS_PER_RUN);
  }

  protected sendQueued(): Promise<void> | undefined {
    const batch = this.queue;
    if (batch.length === 0) return undefined;
    const streams = this.streams;
    this.queue = [];
    this.chars = 0;
    this.streams = [];
    this.streamIndex = new Map();
    if (!this.perSlot || streams.length === 1) return this.sendRun(streams, batch);
    // On a cluster each slot may be on another node: one script run per slot, the order of
    // each stream's events kept.
    const bySlot = new Map<string, { streams: string[]; index: Map<number, number>; events: Pending[] }>();
    streams.forEach((stream, i) => {
      const group = slotGroup(stream);
      let run = bySlot.get(group);
      if (!run) bySlot.set(group, (run = { streams: [], index: new Map(), events: [] }));
      run.index.set(i + 1, run.streams.push(stream));
    });
    const runOf = streams.map((stream) => bySlot.get(slotGroup(stream))!);
    for (const event of batch) {
      const run = runOf[event.streamIndex - 1]!;
      run.events.push({ ...event, streamIndex: run.index.get(event.streamIndex)! });
    }
    return Promise.all([...bySlot.values()].map((run) => this.sendRun(run.streams, run.events))).then(() => undefined);
  }

  /** One script run of `batch`, whose stream indexes (from 1) point into `streams`. */
  private sendRun(streams: string[], batch: Pending[]): Promise<void> {
    const runs: unknown[] = [];
    // Only the receivers wait for the reply: the fields are garbage once in the JSON text,
    // rather than copied by every collection while a burst waits for Redis.
    const receivers: SendReceiver[] = [];
    for (const event of batch) {
      runs.push(event.streamIndex, event.fields);
      receivers.push(event.receiver);
    }
    let json = JSON.stringify(runs);
    if (ESCAPED_SURROGATE.test(json)) {
      json = JSON.stringify(runs.map((item) => (Array.isArray(item) ? item.map((field: string) => field.replace(LONE_SURROGATE, '\uFFFD')) : item)));
    }
    return this.connection.lightbusXadds(streams.length, ...streams, this.trim, json).then(
      (replies) => {
        for (let i = 0; i < receivers.length; i++) {
          const reply = replies[i];
          if (typeof reply === 'string') receivers[i]!.sent(reply);
          else receivers[i]!.failed(reply ?? new Error('the XADD script returned no reply for this event'));
        }
      },
      (error: unknown) => {
        for (const receiver of receivers) receiver.failed(error);
      },
    );
  }

  private sendAlone(stream: string, fields: string[], receiver: SendReceiver): void {
    // What was queued before goes first: one connection keeps the order, so the stream does too.
    this.flush();
    const trim = this.trim === '' ? [] : ['MAXLEN', '~', this.trim];
    this.track(
      (this.connection.xadd(stream, ...trim, '*', ...fields) as Promise<string>).then(
        (streamId) => receiver.sent(streamId),
        (error: unknown) => receiver.failed(error),
      ),
    );
  }
}
