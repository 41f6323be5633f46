/**
 * RPC calls over Redis lists (wire contract, "RPC and results"): a caller sets the call's
 * expiry marker and pushes the call onto `{api}:rpc_queue`; a server pops calls and deletes
 * their markers, dropping the calls whose marker had already expired (at-most-once).
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import type { CallConsumer, RpcCall, RpcTransport } from '../types.js';
import { decodeCall, encodeCall, expiryMarkerKey, rpcQueueKey } from '../wire/rpc.js';
import { closeConnection, createConnection, type RedisConnection } from './connection.js';
import { KeyedBatcher } from './keyed-batcher.js';
import { settleWithin } from '../../util/timeouts.js';
import { Backoff } from './waits.js';

/** What {@link RedisRpcTransport} needs: where Redis is, the call expiry, where to log. */
export interface RedisRpcTransportOptions {
  redis: ResolvedConfig['redis'];
  rpc: ResolvedConfig['rpc'];
  logger: Logger;
}

/** How long one BLPOP blocks before the loop goes round again. */
const BLOCK_SECONDS = 2;
/** How long close waits for queued sends before giving up on them. */
const CLOSE_FLUSH_MS = 1000;
/** How much of a malformed blob goes into the log line. */
const LOGGED_BLOB_CHARS = 500;

/**
 * Pops up to ARGV[1] calls across the queues in KEYS without blocking, and deletes the expiry
 * marker (prefix ARGV[2]) of each in the same step, saving a round trip per batch. A first
 * pass takes at most a fair share from each queue so one busy API cannot starve the others; a
 * second pass fills what is left. ARGV[3..] are ids of calls taken by BLPOP and already
 * running, whose markers are deleted here rather than in a round trip of their own. Returns
 * how many of those markers were already gone, then queue, blob, marker-deleted (1 live, 0
 * expired, -1 no readable id) triples, flat. (`LPOP key count` needs Redis 6.2.)
 */
const DRAIN_SCRIPT = `
local gone = 0
for i = 3, #ARGV do gone = gone + 1 - redis.call('DEL', ARGV[2] .. ARGV[i]) end
local max = tonumber(ARGV[1])
local share = math.ceil(max / #KEYS)
local out = {gone}
local taken = 0
for pass = 1, 2 do
  for _, key in ipairs(KEYS) do
    local want = max - taken
    if pass == 1 and share < want then want = share end
    if want > 0 then
      local items = redis.call('LPOP', key, want)
      if items then
        for _, blob in ipairs(items) do
          local live = -1
          local ok, message = pcall(cjson.decode, blob)
          if ok and type(message) == 'table' and type(message.metadata) == 'table' then
            local id = message.metadata.id
            if type(id) == 'string' and id ~= '' then live = redis.call('DEL', ARGV[2] .. id) end
          end
          out[#out + 1] = key
          out[#out + 1] = blob
          out[#out + 1] = live
        end
        taken = taken + #items
      end
    end
  end
end
return out
`;

/**
 * Sets the expiry marker of every call (KEYS[2..], `PX` ARGV[1]), then RPUSHes the calls
 * (ARGV[2..]) onto the queue KEYS[1] in one go: markers first, as the contract requires.
 */
const SEND_SCRIPT = `
for i = 2, #KEYS do redis.call('SET', KEYS[i], '1', 'PX', ARGV[1]) end
return redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
`;

interface OutgoingCall {
  id: string;
  blob: string;
}

interface SendCommand {
  lightbusSendCalls(numberOfKeys: number, ...keysThenArgs: Array<string | number>): void;
}

interface DrainCommand {
  lightbusDrainCalls(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Promise<Array<string | number>>;
}

/** Sends calls (micro-batched into pipelines) and hands out {@link CallConsumer}s. */
export class RedisRpcTransport implements RpcTransport {
  private sender: { connection: RedisConnection; batcher: KeyedBatcher<OutgoingCall> } | undefined;
  private readonly consumers = new Set<RedisCallConsumer>();
  private closed = false;

  constructor(private readonly options: RedisRpcTransportOptions) {}

  /**
   * Queues a call. The calls of one tick to one API leave as one script run that sets each
   * call's marker and then RPUSHes them all: a server never pops a call whose marker is not
   * there yet, and Redis runs one command instead of two per call. `SET ... PX` is the
   * contract's SET + EXPIRE in one atomic command: a Python server only checks that DEL
   * removes the key, and the TTL is the same.
   */
  async send(call: RpcCall): Promise<void> {
    if (this.closed) throw new BusClosedError('Cannot send an RPC call: the RPC transport is closed');
    const blob = encodeCall(call);
    this.sender ??= this.connectSender();
    await this.sender.batcher.add(rpcQueueKey(call.api), { id: call.id, blob });
  }

  consume(apis: string[]): CallConsumer {
    if (this.closed) throw new BusClosedError('Cannot consume RPC calls: the RPC transport is closed');
    if (apis.length === 0) throw new TypeError('consume() needs at least one API name');
    const consumer = new RedisCallConsumer(apis, this.options, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
    if (this.sender) {
      await settleWithin(this.sender.batcher.drain(), CLOSE_FLUSH_MS);
      await closeConnection(this.sender.connection, false);
    }
  }

  private connectSender(): { connection: RedisConnection; batcher: KeyedBatcher<OutgoingCall> } {
    const connection = createConnection({ redis: this.options.redis, logger: this.options.logger, role: 'rpc:send' });
    connection.defineCommand('lightbusSendCalls', { lua: SEND_SCRIPT });
    const expiryMs = this.options.rpc.expiryMs;
    const batcher = new KeyedBatcher<OutgoingCall>(connection, (pipeline, queue, calls) => {
      const markers = calls.map((call) => expiryMarkerKey(call.id));
      (pipeline as unknown as SendCommand).lightbusSendCalls(1 + calls.length, queue, ...markers, expiryMs, ...calls.map((call) => call.blob));
      return 1;
    });
    return { connection, batcher };
  }
}

/**
 * Serves the calls of some APIs from one blocking connection of its own. `next` drains the
 * queues without blocking while they hold calls and blocks (BLPOP) only when all are empty.
 */
export class RedisCallConsumer implements CallConsumer {
  private readonly connection: RedisConnection & DrainCommand;
  private readonly queues: string[];
  private readonly logger: Logger;
  private readonly backoff = new Backoff();
  /** Which queue goes first next time, so every API gets its turn at the head. */
  private rotation = 0;
  private closed = false;
  /** `next` calls run one after another: they share the connection. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Ids of calls taken by BLPOP whose markers the next drain deletes. */
  private markersToDelete: string[] = [];

  constructor(
    apis: string[],
    options: RedisRpcTransportOptions,
    private readonly onClose: () => void,
  ) {
    this.queues = [...new Set(apis)].map(rpcQueueKey);
    this.logger = options.logger.child({ component: 'rpc-consumer', apis });
    const connection = createConnection({ redis: options.redis, logger: this.logger, role: `rpc:consume:${apis.join(',')}` });
    connection.defineCommand('lightbusDrainCalls', { lua: DRAIN_SCRIPT });
    this.connection = connection as RedisConnection & DrainCommand;
  }

  next(max: number): Promise<RpcCall[]> {
    const run = this.tail.then(() => this.take(Math.max(1, Math.floor(max))));
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.backoff.interrupt();
    await closeConnection(this.connection, true);
    await this.tail;
    this.onClose();
  }

  private async take(max: number): Promise<RpcCall[]> {
    while (!this.closed) {
      try {
        const queues = this.rotatedQueues();
        const drained = await this.drain(queues, max);
        let calls: RpcCall[];
        if (drained.length > 0) {
          calls = this.liveCalls(drained);
        } else {
          const blocked = await this.connection.blpop(...queues, BLOCK_SECONDS);
          calls = blocked ? this.runAtOnce(blocked) : [];
        }
        this.backoff.reset();
        if (calls.length > 0) return calls;
      } catch (error) {
        if (this.closed) break;
        this.logger.warn({ err: (error as Error).message }, 'consuming RPC calls failed; retrying after a pause');
        await this.backoff.wait();
      }
    }
    return [];
  }

  /**
   * A call BLPOP woke up for was pushed a moment ago, while every queue was empty, so its
   * marker (seconds of TTL) cannot have expired: it runs at once, and its marker is deleted
   * by the next drain instead of by a round trip on the way to the handler. That round trip
   * was a fifth of an RPC's latency with one call in flight.
   */
  private runAtOnce([queue, blob]: [string, string]): RpcCall[] {
    const call = this.decode(queue, blob);
    if (!call) return [];
    this.markersToDelete.push(call.id);
    return [call];
  }

  private rotatedQueues(): string[] {
    const start = this.rotation++ % this.queues.length;
    return [...this.queues.slice(start), ...this.queues.slice(0, start)];
  }

  private async drain(queues: string[], max: number): Promise<Array<[string, string, number]>> {
    const deleting = this.markersToDelete;
    const [gone, ...flat] = await this.connection.lightbusDrainCalls(queues.length, ...queues, max, expiryMarkerKey(''), ...deleting);
    // Only once the script ran: a failed drain leaves them for the next one.
    this.markersToDelete = this.markersToDelete.slice(deleting.length);
    if (Number(gone) > 0) this.logger.warn({ calls: Number(gone) }, 'ran RPC calls whose expiry marker was missing (their caller wrote none, or an expiry shorter than a moment)');
    const popped: Array<[string, string, number]> = [];
    for (let i = 0; i + 2 < flat.length; i += 3) popped.push([String(flat[i]), String(flat[i + 1]), Number(flat[i + 2])]);
    return popped;
  }

  /** The drained calls whose marker the script deleted; malformed and expired ones are logged and dropped. */
  private liveCalls(drained: Array<[string, string, number]>): RpcCall[] {
    const calls: RpcCall[] = [];
    for (const [queue, blob, live] of drained) {
      const call = this.decode(queue, blob);
      if (!call) continue;
      if (live === 1) calls.push(call);
      else this.logger.debug({ api: call.api, procedure: call.procedure, id: call.id }, 'dropped an expired RPC call');
    }
    return calls;
  }

  private decode(queue: string, blob: string): RpcCall | undefined {
    const decoded = decodeCall(blob);
    if (!('malformed' in decoded)) return decoded;
    // There is no reliable caller to answer: the caller will time out.
    this.logger.warn({ queue, reason: decoded.malformed, blob: blob.slice(0, LOGGED_BLOB_CHARS) }, 'dropped a malformed RPC call');
    return undefined;
  }
}
