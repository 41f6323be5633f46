/**
 * What the open pages see change: one poll loop (the overview, every `pollMs`) and one tail
 * of new events (a blocking XREAD on a connection of its own, woken by Redis), shared by
 * every page and running only while at least one page is open. A page that cannot keep up
 * is dropped rather than buffered without end; it reconnects and starts afresh.
 */
import type { Logger } from 'pino';
import type { EventRow } from '../inspect/events.js';
import { followMatchingEvents } from '../inspect/follow.js';
import type { Inspector } from '../inspect/inspector.js';
import { sleep } from '../util/timeouts.js';
import { OverviewReader } from './overview.js';
import { boundEventRow, type ShownEvent } from './shown-event.js';

/** An open page: `send` queues one server-sent event and says whether the page keeps up. */
export interface Subscriber {
  send(event: 'overview' | 'schemas' | 'event' | 'problem', data: unknown): boolean;
  close(): void;
}

/** Events a page gets when it opens (and the tail keeps for the next page). */
export const RECENT_EVENTS = 100;
const RETRY_MS = 2000;

export class LiveHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly reader: OverviewReader;
  private controller: AbortController | undefined;
  private lastOverview: unknown;
  private lastSchemasJson: string | undefined;
  private recent: ShownEvent[] = [];

  constructor(
    private readonly inspector: Inspector,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {
    this.reader = new OverviewReader(inspector);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Adds a page, gives it what is known so far, and starts the loops for the first one. */
  subscribe(subscriber: Subscriber): () => void {
    this.subscribers.add(subscriber);
    if (this.lastSchemasJson !== undefined) subscriber.send('schemas', JSON.parse(this.lastSchemasJson));
    if (this.lastOverview !== undefined) subscriber.send('overview', this.lastOverview);
    for (const row of this.recent) subscriber.send('event', row);
    if (!this.controller) this.start();
    return () => this.unsubscribe(subscriber);
  }

  /** Ends the loops and every page's stream. */
  close(): void {
    for (const s of this.subscribers) s.close();
    this.subscribers.clear();
    this.stop();
  }

  private unsubscribe(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.stop();
  }

  private start(): void {
    const controller = new AbortController();
    this.controller = controller;
    void this.pollLoop(controller.signal);
    void this.tailLoop(controller.signal);
  }

  private stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    // Nobody watched meanwhile: the next page starts from a fresh listing, not a stale one with a gap.
    this.recent = [];
    this.lastOverview = undefined;
    this.lastSchemasJson = undefined;
  }

  private broadcast(event: Parameters<Subscriber['send']>[0], data: unknown): void {
    for (const s of this.subscribers) {
      if (!s.send(event, data)) {
        this.logger.warn('a dashboard page fell behind its updates and was dropped (it reconnects)');
        this.subscribers.delete(s);
        s.close();
      }
    }
    if (this.subscribers.size === 0) this.stop();
  }

  /** One read after the other, never two at once: a slow Redis slows the updates, not more. */
  private async pollLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const { overview, schemas } = await this.reader.read();
        if (signal.aborted) break;
        const schemasJson = JSON.stringify(schemas);
        if (schemasJson !== this.lastSchemasJson) {
          this.lastSchemasJson = schemasJson;
          this.broadcast('schemas', schemas);
        }
        this.lastOverview = overview;
        this.broadcast('overview', overview);
      } catch (error) {
        if (signal.aborted) break;
        this.logger.warn({ err: error }, 'dashboard: reading the bus failed');
        this.broadcast('problem', { message: `reading the bus failed: ${(error as Error).message}` });
      }
      await sleep(this.pollMs, signal);
    }
  }

  private async tailLoop(signal: AbortSignal): Promise<void> {
    const onEvent = (row: EventRow) => {
      const shown = boundEventRow(row);
      this.recent.push(shown);
      if (this.recent.length > RECENT_EVENTS) this.recent.shift();
      this.broadcast('event', shown);
    };
    while (!signal.aborted) {
      try {
        await followMatchingEvents(this.inspector, { patterns: [], where: [] }, { limit: RECENT_EVENTS, onEvent, signal });
      } catch (error) {
        if (signal.aborted) break;
        this.logger.warn({ err: error }, 'dashboard: following events failed; trying again');
        this.broadcast('problem', { message: `following events failed: ${(error as Error).message}` });
        await sleep(RETRY_MS, signal);
      }
    }
  }
}
