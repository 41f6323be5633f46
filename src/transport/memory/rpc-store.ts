/**
 * The in-memory stand-in for the Redis keys the RPC, result and schema transports use: named
 * lists of encoded blobs, expiry markers and schemas with a lifetime. Several memory
 * transports sharing one store behave like several processes sharing one Redis. Blobs are
 * stored encoded, exactly as they would travel, so both transports convert values alike.
 *
 * Timers (marker and list expiry) are `unref()`ed: an idle store never keeps a process alive.
 */

/** Something waiting for a push onto some lists; `cancel` ends the wait without a push. */
export interface PushWait {
  readonly pushed: Promise<void>;
  cancel(): void;
}

interface StoredSchema {
  json: string;
  expiresAt: number;
}

const storesByOwner = new WeakMap<object, MemoryRpcStore>();

/** Lists, expiry markers and schemas: what the RPC, result and schema transports keep in Redis. */
export class MemoryRpcStore {
  private readonly lists = new Map<string, string[]>();
  private readonly listTimers = new Map<string, NodeJS.Timeout>();
  private readonly markers = new Map<string, { timer: NodeJS.Timeout; expiresAt: number }>();
  /** Who hears withdrawn calls, by cancel channel (Redis pub/sub). */
  private readonly cancelListeners = new Map<string, Set<(callId: string) => void>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly schemas = new Map<string, StoredSchema>();

  /**
   * The RPC store that goes with a shared store object (such as the event transports'
   * `MemoryStore`), created on first use, so handing one store to several buses shares RPC
   * queues and results as well as event streams.
   */
  static of(owner: object): MemoryRpcStore {
    let store = storesByOwner.get(owner);
    if (!store) {
      store = new MemoryRpcStore();
      storesByOwner.set(owner, store);
    }
    return store;
  }

  /** Sets a marker that disappears after `ttlMs` (the call's expiry). */
  setMarker(id: string, ttlMs: number): void {
    clearTimeout(this.markers.get(id)?.timer);
    const timer = setTimeout(() => this.markers.delete(id), ttlMs);
    timer.unref();
    this.markers.set(id, { timer, expiresAt: Date.now() + ttlMs });
  }

  /** Deletes a marker; the ms it had left when it was still there (the call has not expired), else undefined. */
  takeMarker(id: string): number | undefined {
    const marker = this.markers.get(id);
    if (!marker) return undefined;
    clearTimeout(marker.timer);
    this.markers.delete(id);
    return Math.max(0, marker.expiresAt - Date.now());
  }

  /** Tells the listeners of `channel` (PUBLISH). */
  publishCancel(channel: string, callId: string): void {
    for (const listener of this.cancelListeners.get(channel) ?? []) listener(callId);
  }

  /** Listens to `channel` (SUBSCRIBE); the returned function unsubscribes. */
  subscribeCancels(channel: string, listener: (callId: string) => void): () => void {
    let listeners = this.cancelListeners.get(channel);
    if (!listeners) this.cancelListeners.set(channel, (listeners = new Set()));
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Whether a call's marker is still there (for tests and inspection). */
  hasMarker(id: string): boolean {
    return this.markers.has(id);
  }

  /** Appends blobs to a list (RPUSH), waking whoever waits on it; `ttlMs` (re)starts the list's expiry. */
  push(key: string, blobs: string[], ttlMs?: number): void {
    const list = this.lists.get(key) ?? [];
    list.push(...blobs);
    this.lists.set(key, list);
    if (ttlMs !== undefined) {
      clearTimeout(this.listTimers.get(key));
      const timer = setTimeout(() => this.deleteList(key), ttlMs);
      timer.unref();
      this.listTimers.set(key, timer);
    }
    const waiting = this.waiters.get(key);
    if (waiting) for (const wake of [...waiting]) wake();
  }

  /** Removes and returns up to `count` blobs from the head of a list (LPOP with a count). */
  pop(key: string, count: number): string[] {
    const list = this.lists.get(key);
    if (!list) return [];
    const taken = list.splice(0, count);
    if (list.length === 0) this.deleteList(key);
    return taken;
  }

  /** The blobs of a list, head first, without removing them (for tests and inspection). */
  peek(key: string): string[] {
    return [...(this.lists.get(key) ?? [])];
  }

  /** Removes a list and its expiry (DEL). */
  deleteList(key: string): void {
    this.lists.delete(key);
    clearTimeout(this.listTimers.get(key));
    this.listTimers.delete(key);
  }

  /** Waits until something is pushed onto one of `keys` (or the wait is cancelled). */
  waitForPush(keys: string[]): PushWait {
    let wake!: () => void;
    const pushed = new Promise<void>((resolve) => {
      wake = () => {
        for (const key of keys) this.waiters.get(key)?.delete(wake);
        resolve();
      };
    });
    for (const key of keys) {
      const waiting = this.waiters.get(key) ?? new Set();
      waiting.add(wake);
      this.waiters.set(key, waiting);
    }
    return { pushed, cancel: wake };
  }

  /** Stores an API's schema JSON for `ttlMs`. */
  setSchema(api: string, json: string, ttlMs: number): void {
    this.schemas.set(api, { json, expiresAt: Date.now() + ttlMs });
  }

  /** Whether the API's schema is stored and has not expired. */
  hasSchema(api: string): boolean {
    const stored = this.schemas.get(api);
    return stored !== undefined && stored.expiresAt > Date.now();
  }

  /** The schema JSON of every API whose schema has not expired. */
  liveSchemas(): Array<[api: string, json: string]> {
    const now = Date.now();
    const live: Array<[string, string]> = [];
    for (const [api, stored] of this.schemas) {
      if (stored.expiresAt > now) live.push([api, stored.json]);
      else this.schemas.delete(api);
    }
    return live.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
