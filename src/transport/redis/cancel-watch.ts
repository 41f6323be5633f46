/**
 * Hears withdrawn RPC calls: one subscriber connection per serving process, subscribed to the
 * cancel channel of every API it serves (`lightbus:rpc_cancel:{api}`, see wire/rpc.ts). A
 * message is a call id. ioredis subscribes again after a reconnect; a withdrawal published
 * while the connection was down is not heard, and the call's own deadline ends it instead.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../../config/schema.js';
import type { CancelWatch } from '../types.js';
import { cancelChannel } from '../wire/rpc.js';
import { closeConnection, createConnection, type RedisConnection } from './connection.js';

/** Longest call id heard: ours are 36 characters; anything longer is nobody's call. */
const MAX_CALL_ID_CHARS = 200;

export class RedisCancelWatch implements CancelWatch {
  private connection: RedisConnection | undefined;
  private readonly channels = new Set<string>();
  private closed = false;

  constructor(
    private readonly options: { redis: ResolvedConfig['redis']; logger: Logger },
    private readonly onCancel: (callId: string) => void,
    private readonly onClose: () => void,
  ) {}

  async add(api: string): Promise<void> {
    const channel = cancelChannel(api);
    if (this.closed || this.channels.has(channel)) return;
    this.channels.add(channel);
    await this.subscriber().subscribe(channel);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.connection) await closeConnection(this.connection, true);
    this.onClose();
  }

  private subscriber(): RedisConnection {
    if (this.connection) return this.connection;
    const connection = createConnection({ ...this.options, role: 'rpc:cancels' });
    connection.on('message', (channel: string, callId: string) => {
      if (this.channels.has(channel) && callId.length > 0 && callId.length <= MAX_CALL_ID_CHARS) this.onCancel(callId);
    });
    this.connection = connection;
    return connection;
  }
}
