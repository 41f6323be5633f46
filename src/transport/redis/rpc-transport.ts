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
import { CommandBatcher } from './command-batcher.js';
import { closeConnection, createConnection, type RedisConnection } from './connection.js';
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
 * second pass fills what is left. Returns queue, blob, marker-deleted (1 live, 0 expired, -1
 * no readable id) triples, flat. (`LPOP key count` needs Redis 6.2.)
 */
const DRAIN_SCRIPT = `
local max = tonumber(ARGV[1])
local share = math.ceil(max / #KEYS)
local out = {}
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

interface DrainCommand {
  lightbusDrainCalls(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Promise<Array<string | number>>;
}

/** Sends calls (micro-batched into pipelines) and hands out {@link CallConsumer}s. */
export class RedisRpcTransport implements RpcTransport {
  private sender: { connection: RedisConnection; batcher: CommandBatcher } | undefined;
  private readonly consumers = new Set<RedisCallConsumer>();
  private closed = false;

  constructor(private readonly options: RedisRpcTransportOptions) {}

  /**
   * Queues a call: the marker's SET goes out before the RPUSH on the same connection (Redis
   * runs them in that order), so a server never pops a call whose marker is not there yet.
   * Every send of the same tick shares one pipeline. `SET ... PX` is the contract's SET + EXPIRE in one atomic
   * command: a Python server only checks that DEL removes the key, and the TTL is the same.
   */
  async send(call: RpcCall): Promise<void> {
    if (this.closed) throw new BusClosedError('Cannot send an RPC call: the RPC transport is closed');
    const blob = encodeCall(call);
    this.sender ??= this.connectSender();
    const { batcher } = this.sender;
    const marked = batcher.call('set', [expiryMarkerKey(call.id), '1', 'PX', this.options.rpc.expiryMs]);
    const queued = batcher.call('rpush', [rpcQueueKey(call.api), blob]);
    await Promise.all([marked, queued]);
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

  private connectSender(): { connection: RedisConnection; batcher: CommandBatcher } {
    const connection = createConnection({ redis: this.options.redis, logger: this.options.logger, role: 'rpc:send' });
    return { connection, batcher: new CommandBatcher(connection) };
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
          calls = blocked ? await this.keepUnexpired([blocked]) : [];
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

  private rotatedQueues(): string[] {
    const start = this.rotation++ % this.queues.length;
    return [...this.queues.slice(start), ...this.queues.slice(0, start)];
  }

  private async drain(queues: string[], max: number): Promise<Array<[string, string, number]>> {
    const flat = await this.connection.lightbusDrainCalls(queues.length, ...queues, max, expiryMarkerKey(''));
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

  /** Decodes popped calls and deletes their markers; drops malformed and expired ones. */
  private async keepUnexpired(popped: Array<[string, string]>): Promise<RpcCall[]> {
    const calls = popped.map(([queue, blob]) => this.decode(queue, blob)).filter((c): c is RpcCall => c !== undefined);
    if (calls.length === 0) return [];
    const pipeline = this.connection.pipeline();
    for (const call of calls) pipeline.del(expiryMarkerKey(call.id));
    const results = await pipeline.exec();
    if (!results) throw new Error('Redis pipeline deleting RPC expiry markers was aborted');
    return calls.filter((call, index) => {
      const [error, deleted] = results[index]!;
      if (error) throw error;
      if (deleted === 1) return true;
      this.logger.debug({ api: call.api, procedure: call.procedure, id: call.id }, 'dropped an expired RPC call');
      return false;
    });
  }
}
