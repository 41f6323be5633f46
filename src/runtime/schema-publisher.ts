/**
 * Keeps the schema of every API this process serves published in Redis: written at once when
 * an API is served, refreshed at 80 % of the TTL (48 s of 60 s, as Python does), and left to
 * expire when the process stops serving.
 */
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import type { SchemaTransport } from '../transport/types.js';

export class SchemaPublisher {
  private readonly schemas = new Map<string, ApiSchema>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: SchemaTransport,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  async publish(api: string, schema: ApiSchema): Promise<void> {
    this.schemas.set(api, schema);
    this.timer ??= setInterval(() => void this.refresh(), Math.max(100, Math.floor(this.ttlMs * 0.8)));
    this.timer.unref();
    await this.store(api, schema);
  }

  /** Stops refreshing an API's schema (no longer served): it expires with its TTL. */
  unpublish(api: string): void {
    this.schemas.delete(api);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async refresh(): Promise<void> {
    await Promise.all([...this.schemas].map(([api, schema]) => this.store(api, schema)));
  }

  private async store(api: string, schema: ApiSchema): Promise<void> {
    try {
      await this.transport.store(api, schema, this.ttlMs);
    } catch (error) {
      this.logger.warn({ err: error, api }, 'could not publish the API schema; will retry at the next refresh');
    }
  }
}
