/**
 * What every per-tick batcher of the Redis transports shares: while a send is on its way,
 * what is queued during one turn of the event loop is sent once, on the next turn
 * (`setImmediate`: every command issued while handling this turn's I/O, such as a batch of
 * results or a burst of fires, goes together); on an idle connection what is queued goes at
 * the end of the current microtasks, so a lone call waits for nothing, and a burst delivered
 * in one go (a pop of many results, a worker's batch of answers) leaves in one write instead
 * of its first alone and the rest a turn later. `drain` waits for every send still awaiting
 * its replies.
 */
export abstract class TickBatcher {
  private scheduled = false;
  private readonly outstanding = new Set<Promise<void>>();

  /** Sends what is queued now. */
  flush(): void {
    this.scheduled = false;
    const sent = this.sendQueued();
    if (sent) this.track(sent);
  }

  /** Sends what is queued and waits until every send so far has its replies. */
  async drain(): Promise<void> {
    this.flush();
    while (this.outstanding.size > 0) await Promise.allSettled([...this.outstanding]);
  }

  /**
   * Call after queueing: flushes at once when the queue is full; when nothing is on its way,
   * once the microtasks queued so far have run (an idle connection has nothing to gather
   * behind, and a lone call or result should not wait a turn of the loop, but what the same
   * burst queues in those microtasks goes with it); else on the next turn.
   */
  protected queued(full: boolean): void {
    if (full) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      if (this.outstanding.size === 0) queueMicrotask(() => this.scheduled && this.flush());
      else setImmediate(() => this.scheduled && this.flush());
    }
  }

  /** A send made outside the queue, for `drain` to wait for too. */
  protected track(sent: Promise<void>): void {
    this.outstanding.add(sent);
    void sent.finally(() => this.outstanding.delete(sent));
  }

  /** Sends everything queued (and empties the queue); undefined when there was nothing. Settles every waiter, never rejects. */
  protected abstract sendQueued(): Promise<void> | undefined;
}
