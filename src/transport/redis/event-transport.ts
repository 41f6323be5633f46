/**
 * Events over Redis streams and consumer groups, wire-compatible with Python Lightbus. Sends
 * of one tick leave together in one script run ({@link EventSender}) on one shared connection;
 * every consumer gets a blocking connection of its own and runs the shared
 * {@link GroupConsumer} algorithm.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import { BusClosedError } from '../../errors.js';
import { GroupConsumer, groupConsumerOptions } from '../group-consumer.js';
import { replayStreamKey } from '../replay-stream.js';
import type { EventConsumer, EventConsumerSpec, EventMessage, EventTransport, SendReceiver } from '../types.js';
import { encodeEvent } from '../wire/events.js';
import { keyLayoutOf, type KeyLayout } from '../wire/key-layout.js';
import { CommandBatcher } from './command-batcher.js';
import { closeConnection, createConnection, onReconnected, type RedisConnection } from './connection.js';
import { RedisGroupBackend } from './event-consumer.js';
import { EventSender } from './event-sender.js';
import { isClusterConfig } from './topology.js';
import { settleWithin } from '../../util/timeouts.js';

/** How long `close` waits for queued sends and acks to reach Redis. */
const CLOSE_DRAIN_TIMEOUT_MS = 5000;

export interface RedisEventTransportOptions {
  redis: ResolvedConfig['redis'];
  events: ResolvedConfig['events'];
  logger: Logger;
}

/** The {@link EventTransport} over Redis streams: `send` appends with XADD, `consume` starts a consumer-group reader. */
export class RedisEventTransport implements EventTransport {
  private readonly options: RedisEventTransportOptions;
  private readonly commands: RedisConnection;
  private readonly batcher: CommandBatcher;
  private readonly sender: EventSender;
  private readonly consumers = new Set<GroupConsumer>();
  private closing: Promise<void> | undefined;
  /** The key names of `redis.keys`. */
  private readonly keys: KeyLayout;

  constructor(options: RedisEventTransportOptions) {
    this.options = options;
    this.keys = keyLayoutOf(options.redis);
    this.commands = createConnection({ redis: options.redis, logger: options.logger, role: 'events' });
    this.batcher = new CommandBatcher(this.commands);
    this.sender = new EventSender(this.commands, options.events.maxStreamLength, isClusterConfig(options.redis));
    // The consumers' pending queries and plain acks travel here: see GroupConsumer.recheckOwnPending.
    onReconnected(this.commands, () => {
      for (const consumer of this.consumers) consumer.recheckOwnPending();
    });
  }

  /** `XADD {stream} MAXLEN ~ N * fields`, in one script run with every other send of the same tick. */
  send(message: EventMessage): Promise<{ streamId: string }> {
    return new Promise((resolve, reject) => this.sendTo(message, { sent: (streamId) => resolve({ streamId }), failed: reject }));
  }

  sendTo(message: EventMessage, receiver: SendReceiver): void {
    if (this.closing) return receiver.failed(new BusClosedError(`cannot send ${message.api}.${message.event}: the event transport is closed`));
    let fields: string[];
    try {
      fields = encodeEvent(message);
    } catch (error) {
      return receiver.failed(error);
    }
    this.sender.send(this.keys.stream(message.api, message.event, this.options.events.streamUse), fields, receiver);
  }

  /**
   * Starts a consumer; its `ready` resolves once every group exists.
   *
   * @throws TypeError when the spec lists no events or `since` is not a valid start.
   */
  consume(spec: EventConsumerSpec): EventConsumer {
    if (this.closing) throw new BusClosedError('cannot consume: the event transport is closed');
    const { events, logger, redis } = this.options;
    const backend = () =>
      new RedisGroupBackend({
        group: spec.group,
        consumer: spec.consumer,
        commands: this.commands,
        batcher: this.batcher,
        logger,
        maxStreamLength: events.maxStreamLength,
        // On a cluster, one blocking client per stream read (SplitStreamReads) and none for the group.
        ...(isClusterConfig(redis)
          ? { clusterBlockingClient: (stream: string) => createConnection({ redis, logger, role: `events:${spec.group}:${stream}` }) }
          : { blocking: createConnection({ redis, logger, role: `events:${spec.group}` }) }),
      });
    const options = groupConsumerOptions(spec, events, this.keys, logger, backend, () => this.consumers.delete(consumer));
    const consumer: GroupConsumer = new GroupConsumer({ ...options, replayStream: replayStreamKey(spec.group) });
    this.consumers.add(consumer);
    return consumer;
  }

  /** Closes every consumer (flushing their acks), sends what is queued, then closes the connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.consumers].map((consumer) => consumer.close()));
      // Bounded: with Redis unreachable the queue never drains, and closing must still finish.
      await settleWithin(Promise.all([this.sender.drain(), this.batcher.drain()]), CLOSE_DRAIN_TIMEOUT_MS);
      await closeConnection(this.commands, false);
    })();
    return this.closing;
  }
}
