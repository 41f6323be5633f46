/**
 * Which of the invoker's messages a worker thread runs in one turn of its loop. A turn and a
 * `postMessage` per message were a third of a worker's CPU per RPC with many in flight
 * (docs/benchmark.md); run together, the answers of quick handlers leave in one message at the
 * turn's end. But an answer that is ready must not wait while a CPU-bound handler runs after it
 * in the same turn (or in that turn's microtasks). So messages share a turn only when their
 * handlers are known to be quick: a handler (an RPC, a listener, a task) runs alone until a turn
 * of its own took less than {@link QUICK_TURN_MS}, and runs alone again after any turn it was
 * part of took longer. A turn is timed from its start to the start of the next macrotask, which
 * counts the microtasks its handlers left behind.
 */
import type { ToWorker } from './protocol.js';

/** A turn shorter than this, microtasks included, marks its handlers quick. */
export const QUICK_TURN_MS = 1;
/** No further message joins a turn that has run this long. */
export const TURN_BUDGET_MS = 1;

/** What a message runs: handlers of the same key are expected to take alike. */
export function handlerKey(message: ToWorker): string {
  switch (message.type) {
    case 'execute-rpc':
      return `rpc:${message.call.api}.${message.call.procedure}`;
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
  /** The turn under way or last ended, until it is timed. */
  private turn: { startedAt: number; keys: string[]; allQuick: boolean } | undefined;

  /** A turn starts at `now`; the one before it, if not yet timed, ends here. */
  begin(now: number): void {
    this.timeTurn(now);
    this.turn = { startedAt: now, keys: [], allQuick: true };
  }

  /** Whether a message of `key` runs in the turn under way: the first always does, others only among quick handlers and within the budget. */
  admits(key: string, now: number): boolean {
    const turn = this.turn;
    if (!turn || turn.keys.length === 0) return true;
    return turn.allQuick && this.quick.has(key) && now - turn.startedAt < TURN_BUDGET_MS;
  }

  /** A message of `key` ran in the turn under way. */
  ran(key: string): void {
    const turn = this.turn;
    if (!turn) return;
    turn.keys.push(key);
    if (!this.quick.has(key)) turn.allQuick = false;
  }

  /** The next macrotask started at `now`: the last turn's handlers are quick, or not, by how long it took. */
  timeTurn(now: number): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = undefined;
    const quick = now - turn.startedAt < QUICK_TURN_MS;
    for (const key of turn.keys) {
      if (quick) this.quick.add(key);
      else this.quick.delete(key);
    }
  }
}
