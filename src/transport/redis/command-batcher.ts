/**
 * Micro-batching of hot-path commands (XACK of `ack`, dead letters): every command issued by
 * concurrent callers in the same turn of the event loop goes out in one socket write, as plain
 * commands (not a `pipeline()`): callers need not coordinate to share a write. Why commands in
 * flight together and not one by one: see docs/benchmark.md, figure 3.
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
