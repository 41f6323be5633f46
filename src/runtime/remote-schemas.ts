/**
 * Keeps this process's copy of the schemas on the bus fresh: loaded at start, reloaded every
 * few seconds, and handed on only when something changed, so a schema a peer changes is
 * picked up without a restart.
 */
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import type { SchemaTransport } from '../transport/types.js';

export class RemoteSchemaWatcher {
  private timer: NodeJS.Timeout | undefined;
  private lastText = '';
  private current: Record<string, ApiSchema> = {};
  private loadedOnce = false;

  constructor(
    private readonly transport: SchemaTransport,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly onChange: (schemas: Record<string, ApiSchema>) => void,
    /** Read beside every load (the heartbeats, for who serves what); must not reject. */
    private readonly alongside: () => Promise<void> = () => Promise.resolve(),
  ) {}

  get schemas(): Record<string, ApiSchema> {
    return this.current;
  }

  /** Whether the schemas were ever read: before that, an API missing from them says nothing. */
  get loaded(): boolean {
    return this.loadedOnce;
  }

  /** Loads once now, then keeps reloading until {@link stop}. */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async reload(): Promise<void> {
    await Promise.all([this.load(), this.alongside()]);
  }

  private async load(): Promise<void> {
    try {
      const loaded = (await this.transport.load()) as Record<string, ApiSchema>;
      this.loadedOnce = true;
      const full = JSON.stringify(loaded);
      if (full === this.lastText) return;
      this.lastText = full;
      this.current = loaded;
      this.onChange(loaded);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not load the schemas on the bus; keeping the previous ones');
    }
  }
}
