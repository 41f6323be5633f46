/**
 * Whether an event's API is on the bus. Firing writes a stream whatever the name, so a typo in
 * an API name, or a service that is not running, fails silently: the event sits in a stream
 * nobody reads. A local definition makes the parameters valid, so validation does not see it;
 * the schemas on the bus do: an API nobody serves has none there.
 */
import type { Logger } from 'pino';
import { apiConfig, type ResolvedConfig } from '../config/schema.js';
import { UnknownApiError } from '../errors.js';
import { settleWithin } from '../util/timeouts.js';

/** APIs warned about, at most: a caller may fire to any number of names. */
const MAX_WARNED_APIS = 1000;

export interface FireTargetSource {
  /** The APIs whose schema is on the bus, as last loaded. */
  published(api: string): boolean;
  /** Loads the schemas on the bus again (they may be seconds old). */
  reload(): Promise<void>;
}

export class FireTargets {
  private readonly warned = new Set<string>();

  constructor(
    private readonly source: FireTargetSource,
    private readonly config: Pick<ResolvedConfig, 'apis'>,
    private readonly logger: Logger,
  ) {}

  /** The hot path: true when the fire can go ahead without a look at {@link checkUnpublished}. */
  published(api: string): boolean {
    return this.source.published(api);
  }

  /**
   * For an API not in the last loaded schemas: under the API's strictValidation, reloads once
   * (a server may have just started) and throws if it is still missing; otherwise warns once
   * per API and lets the fire go ahead. The reload takes at most `timeoutMs` (the fire's own
   * timeout): with Redis away it would wait for a reconnect.
   *
   * @throws UnknownApiError naming the fix.
   */
  async checkUnpublished(api: string, event: string, timeoutMs: number): Promise<void> {
    if (apiConfig(this.config, api).strictValidation) {
      await settleWithin(this.source.reload(), timeoutMs);
      if (this.source.published(api)) return;
      throw new UnknownApiError(
        `no schema for API "${api}" is on the bus and strict validation is on: start a process that serves it, or turn off apis.${api}.strictValidation`,
        api,
      );
    }
    if (this.warned.has(api)) return;
    if (this.warned.size >= MAX_WARNED_APIS) this.warned.clear();
    this.warned.add(api);
    this.logger.warn(
      { api, event },
      `firing ${api}.${event}: no schema for API "${api}" is on the bus (is a process serving it? is the name right?); the event is written all the same`,
    );
  }
}
