/**
 * Whether anyone serves an API, for a caller deciding to send a call or to refuse it at once.
 * Two signs count: a live heartbeat that lists the API (ours), or its schema on the bus (ours,
 * and the only sign a Python server leaves). The answer comes from what the invoker already
 * holds, so a served API costs a call nothing; only a "no" is checked again in Redis, once,
 * before anyone is refused: a server may have started since the last reload.
 */
import type { Logger } from 'pino';
import { isLive } from '../transport/liveness.js';
import type { PresenceTransport, SchemaTransport } from '../transport/types.js';

export interface ServerPresenceSource {
  /** Whether this process serves the API itself, or has started to (its server may not be up yet). */
  local(api: string): boolean;
  /** The schemas on the bus as last loaded (by `RemoteSchemaWatcher`). */
  schemas(): Readonly<Record<string, unknown>>;
  /** Whether the schemas were ever loaded: before that, an API missing from them says nothing. */
  loaded(): boolean;
  schema: Pick<SchemaTransport, 'has'>;
  presence: Pick<PresenceTransport, 'list'>;
}

export class ServerPresence {
  /** The APIs listed by live heartbeats, as last read. */
  private heartbeatApis: ReadonlySet<string> = new Set();
  /** APIs a fresh look found served since the last read: their next calls need no look. */
  private readonly confirmed = new Set<string>();
  /** One fresh look per API at a time: a burst of calls to it shares the answer. */
  private readonly looking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly source: ServerPresenceSource,
    private readonly logger: Logger,
  ) {}

  /** Whether the API's schema is on the bus (or this process serves it), as last loaded. */
  published(api: string): boolean {
    return Object.hasOwn(this.source.schemas(), api) || this.source.local(api);
  }

  /**
   * The hot path, no Redis read: true when a sign of a server is held, false when none is,
   * undefined when the schemas never loaded (nothing can be told yet).
   */
  served(api: string): boolean | undefined {
    if (this.published(api) || this.heartbeatApis.has(api) || this.confirmed.has(api)) return true;
    return this.source.loaded() ? false : undefined;
  }

  /** Reads the heartbeats again; run beside every reload of the schemas. Keeps the last ones on a failure. */
  async refresh(): Promise<void> {
    try {
      this.heartbeatApis = await this.liveHeartbeatApis();
      this.confirmed.clear();
    } catch (error) {
      this.logger.debug({ err: error }, 'could not read the heartbeats; keeping the previous ones');
    }
  }

  /**
   * A fresh look in Redis for an API {@link served} said no (or could not tell) about: the
   * API's schema key and the heartbeats, read at once (one round trip each, side by side).
   * Rejects when Redis does not answer; the caller decides what that means.
   */
  recheck(api: string): Promise<boolean> {
    let look = this.looking.get(api);
    if (!look) {
      look = this.look(api).finally(() => this.looking.delete(api));
      this.looking.set(api, look);
    }
    return look;
  }

  private async look(api: string): Promise<boolean> {
    const [schema, heartbeats] = await Promise.all([this.source.schema.has(api), this.liveHeartbeatApis()]);
    this.heartbeatApis = heartbeats;
    // This process may have started serving it while the look was under way (a module that calls before it serves).
    const served = schema || heartbeats.has(api) || this.source.local(api);
    if (served) this.confirmed.add(api);
    return served;
  }

  private async liveHeartbeatApis(): Promise<Set<string>> {
    const now = Date.now();
    const apis = new Set<string>();
    for (const info of await this.source.presence.list()) if (isLive(info, now)) for (const api of info.apis) apis.add(api);
    return apis;
  }
}
