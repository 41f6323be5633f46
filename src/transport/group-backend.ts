/**
 * What a transport provides to run the shared consumer-group algorithm
 * (`GroupConsumer` in `group-consumer.ts`): the stream commands for one consumer group
 * and one consumer name, shaped after Redis (XPENDING, XCLAIM, XREADGROUP, XACK, XADD).
 */

/** One row of a consumer group's pending entries list. */
export interface PendingInfo {
  streamId: string;
  consumer: string;
  idleMs: number;
  /** How many times the group has delivered the entry so far. */
  deliveries: number;
}

/** A stream entry: its native id and flat field list. */
export interface StreamEntry {
  streamId: string;
  fields: string[];
}

/** Stream commands for one consumer group and one consumer name. */
export interface GroupBackend {
  /** Creates the group at `since` unless it exists; a missing stream is first created with a noop entry. */
  createGroup(stream: string, since: string): Promise<void>;
  /** Pending entries in id order, after `after` (exclusive), optionally only idle ones or one consumer's. */
  pending(stream: string, query: { after?: string; count: number; minIdleMs?: number; consumer?: string }): Promise<PendingInfo[]>;
  /** Takes entries over for this consumer if still idle `minIdleMs`; entries deleted from the stream are dropped from the pending list and not returned. */
  claim(stream: string, ids: string[], minIdleMs: number): Promise<StreamEntry[]>;
  /** Resets the idle time of entries this consumer holds, without counting a delivery. */
  touch(stream: string, ids: string[]): Promise<void>;
  /** New entries for the group, waiting up to `blockMs` for some (less when {@link wake} is called). */
  readNew(streams: string[], count: number, blockMs: number): Promise<Array<{ stream: string; entries: StreamEntry[] }>>;
  /** Makes a waiting {@link readNew} return early (best effort). */
  wake(): void;
  ack(stream: string, ids: string[]): Promise<void>;
  /**
   * Queues an acknowledgement to leave ahead of the next {@link readNew}, on the read's own
   * connection, so Redis applies it before that read; the promise is Redis's confirmation.
   * Returns undefined when that cannot be promised (a read is out, the backend is closing):
   * use {@link ack}. Optional: without it every acknowledgement goes through {@link ack}.
   */
  ackBeforeNextRead?(stream: string, ids: string[]): Promise<void> | undefined;
  /** Appends an entry to a stream (the dead-letter stream), trimmed like every other write. */
  append(stream: string, fields: string[]): Promise<void>;
  /** Whether a stream exists (the group's replay stream). Optional: without it no replay stream is read. */
  streamExists?(stream: string): Promise<boolean>;
  /** Whether an error means the group (or its stream) no longer exists. */
  isMissingGroup(error: unknown): boolean;
  /** Called by the backend after its connection came back, when replies may have been lost. */
  onReconnect(listener: () => void): void;
  /** Makes a waiting {@link readNew} fail or return at once; no further reads follow. */
  interrupt(): void;
  /** Waits for queued writes (acks) to reach the server. */
  flush(): Promise<void>;
  /** Releases the backend's own resources (the blocking connection). */
  close(): Promise<void>;
}
