/**
 * One read-mostly view of a live bus for `lightbus inspect`: a plain connection for the
 * stream, list and hash reads, the schema and presence transports for what they already
 * know how to read, all closed together. It never joins a consumer group or takes a call.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { closeConnection, type RedisConnection } from '../transport/redis/connection.js';
import { RedisPresenceTransport } from '../transport/redis/presence-transport.js';
import { RedisSchemaTransport } from '../transport/redis/schema-transport.js';
import { describeApis, type ApiRow } from './apis.js';
import { connectOrFail } from './connection.js';
import { listDeadLetters, type DeadLetterFilter, type DeadLetterRow } from './dead-letters.js';
import { listEvents, type EventFilter, type EventRow } from './events.js';
import { listGroups, type GroupRow } from './groups.js';
import type { MemberPattern } from './patterns.js';
import { listProcesses, type ProcessFilter, type ProcessRow } from './processes.js';
import { listQueues, type QueueRow } from './queues.js';
import { describeStreams, type StreamStatRow } from './stream-stats.js';
import { findEventStreams, type EventStream } from './streams.js';
import { keyLayoutOf, type KeyLayout } from '../transport/wire/key-layout.js';

export class Inspector {
  private readonly presence: RedisPresenceTransport;
  private readonly schemaTransport: RedisSchemaTransport;
  /** The key names of `redis.keys`, for the keys inspect names itself (scans find either layout). */
  readonly keys: KeyLayout;

  private constructor(
    readonly config: ResolvedConfig,
    /** A plain, non-blocking connection; do not block on it. */
    readonly redis: RedisConnection,
    private readonly logger: Logger,
  ) {
    this.keys = keyLayoutOf(config.redis);
    // With redis.cluster.scaleReads 'replica', what these read may come from a replica (a moment
    // behind); their few writes (pruning old heartbeats) still go to masters.
    this.presence = new RedisPresenceTransport({ redis: config.redis, logger, replicaReads: true });
    this.schemaTransport = new RedisSchemaTransport({ redis: config.redis, logger, replicaReads: true });
  }

  /** Connects, failing at once when Redis does not answer. @throws RedisUnreachableError */
  static async open(config: ResolvedConfig, logger: Logger): Promise<Inspector> {
    return new Inspector(config, await connectOrFail(config.redis, logger, 'inspect', undefined, true), logger);
  }

  processes(filter: ProcessFilter = {}): Promise<ProcessRow[]> {
    return listProcesses(this.presence, filter);
  }

  /** The published schemas, by API. */
  schemas(): Promise<Record<string, unknown>> {
    return this.schemaTransport.load();
  }

  async apis(patterns: readonly MemberPattern[] = []): Promise<ApiRow[]> {
    const [schemas, processes] = await Promise.all([this.schemas(), this.processes()]);
    return describeApis(schemas, processes, patterns);
  }

  /** RPC queues with calls waiting, and the empty ones of every API known from schemas or heartbeats. */
  async queues(patterns: readonly MemberPattern[] = []): Promise<QueueRow[]> {
    const [schemas, processes] = await Promise.all([this.schemas(), this.processes()]);
    const known = describeApis(schemas, processes, patterns).map((row) => row.api);
    return listQueues(this.redis, processes, known, patterns, this.keys);
  }

  streams(patterns: readonly MemberPattern[] = []): Promise<EventStream[]> {
    return findEventStreams(this.redis, patterns, this.config.events.deadLetterStream);
  }

  async groups(patterns: readonly MemberPattern[] = [], groupGlob?: string): Promise<GroupRow[]> {
    return listGroups(this.redis, await this.streams(patterns), groupGlob);
  }

  /** Length and entries ever added of each of these streams (one command per stream, sent together). */
  streamStats(streams: readonly EventStream[]): Promise<StreamStatRow[]> {
    return describeStreams(this.redis, streams);
  }

  /** The consumer groups of these streams (streams already found: no second scan). */
  groupsOf(streams: readonly EventStream[]): Promise<GroupRow[]> {
    return listGroups(this.redis, streams);
  }

  async events(filter: EventFilter, limit: number, endIds?: ReadonlyMap<string, string>): Promise<EventRow[]> {
    return listEvents(this.redis, await this.streams(filter.patterns), filter, limit, endIds);
  }

  deadLetters(filter: DeadLetterFilter, limit: number): Promise<DeadLetterRow[]> {
    return listDeadLetters(this.redis, this.config.events.deadLetterStream, filter, limit);
  }

  /** How many dead letters wait (XLEN). */
  deadLetterCount(): Promise<number> {
    return this.redis.xlen(this.config.events.deadLetterStream);
  }

  /** Another connection that answered PING, for a loop that blocks (`--follow`); the caller closes it. */
  blockingConnection(): Promise<RedisConnection> {
    return connectOrFail(this.config.redis, this.logger, 'inspect-follow', undefined, true);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.presence.close(), this.schemaTransport.close(), closeConnection(this.redis, false)]);
  }
}
