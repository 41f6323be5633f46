/**
 * Which of the invoker's messages a worker thread runs in one turn of its loop. A turn and a
 * `postMessage` per message were a third of a worker's CPU per RPC with many in flight
 * (docs/benchmark.md); run together, the answers of quick handlers leave in one message at the
 * turn's end. But an answer that is ready must not wait while a CPU-bound handler runs after it
 * in the same turn (or in that turn's microtasks). So messages share a turn only when their
 * handlers are known to be quick: a handler (an RPC, a listener, a task) runs alone until it ran
 * in under {@link QUICK_MS} and the microtasks of its turn did too, and runs alone again once
 * it, or the microtasks of a turn it was part of, took longer. The microtasks are timed from the
 * end of the turn's messages to the start of the next macrotask. A turn of many quick messages may
 * run for its whole budget without making any of them slow.
 */
import type { ToWorker } from './protocol.js';

/** A handler whose synchronous part, or whose turn's microtasks, took less than this is quick. */
export const QUICK_MS = 1;
/** No further message joins a turn that has run this long. */
export const TURN_BUDGET_MS = 1;

/** The key of an RPC's handler: the invoker asks a thread whether it is quick by this key (pool.ts). */
export function rpcHandlerKey(call: { api: string; procedure: string }): string {
  return `rpc:${call.api}.${call.procedure}`;
}

/** What a message runs: handlers of the same key are expected to take alike. */
export function handlerKey(message: ToWorker): string {
  switch (message.type) {
    case 'execute-rpc':
      return rpcHandlerKey(message.call);
    case 'execute-events':
      return `listener:${message.listener}`;
    case 'run-task':
      return `task:${message.task}`;
    default:
      // A reply resumes whichever handler awaited it; hooks, schemas and shutdown are rare.
      return message.type;
  }
}

export class TurnPlan {
  private readonly quick = new Set<string>();
  /** The turn under way, or the last one until its microtasks are timed; `keys` are those of its quick runs. */
  private turn: { startedAt: number; endedAt: number; ran: number; keys: string[]; allQuick: boolean } | undefined;

  /** Whether handlers of `key` are quick now: they share turns. */
  isQuick(key: string): boolean {
    return this.quick.has(key);
  }

  /** A turn starts at `now`; the one before it, if not yet timed, ends here. */
  begin(now: number): void {
    this.timeTurn(now);
    this.turn = { startedAt: now, endedAt: now, ran: 0, keys: [], allQuick: true };
  }

  /** Whether a message of `key` runs in the turn under way: the first always does, others only among quick handlers and within the budget. */
  admits(key: string, now: number): boolean {
    const turn = this.turn;
    if (!turn || turn.ran === 0) return true;
    return turn.allQuick && this.quick.has(key) && now - turn.startedAt < TURN_BUDGET_MS;
  }

  /** A message of `key` ran in the turn under way, its synchronous part from `startedAt` to `endedAt`. */
  ran(key: string, startedAt: number, endedAt: number): void {
    const turn = this.turn;
    if (!turn) return;
    turn.ran += 1;
    turn.endedAt = endedAt;
    // CPU-bound now: it runs alone from the next message of its key on.
    if (endedAt - startedAt >= QUICK_MS) this.quick.delete(key);
    else turn.keys.push(key);
    if (!this.quick.has(key)) turn.allQuick = false;
  }

  /**
   * The next macrotask started at `now`: the microtasks the last turn left behind ran in
   * between. Quick enough, its handlers that ran quickly are quick; otherwise none of them is,
   * since which one's microtasks took the time is not known.
   */
  timeTurn(now: number): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = undefined;
    const quick = now - turn.endedAt < QUICK_MS;
    for (const key of turn.keys) {
      if (quick) this.quick.add(key);
      else this.quick.delete(key);
    }
  }
}
