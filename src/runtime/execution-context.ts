/**
 * Which handler execution is running right now. A bus call made inside a handler carries the
 * execution's id, so the invoker can lend that execution's slot to other work while the call
 * waits: this is what lets a handler call the API it serves, nested to any depth, with a
 * single worker and a concurrency of one, without deadlock.
 *
 * The storage lives behind a global symbol, not in a module variable: the user's modules may
 * load a second copy of this package (its `src/` beside the runtime's `dist/`, or two installs),
 * and the bus of that copy must still see the execution the runtime's copy started.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const kExecutionStorage = Symbol.for('lightbus.execution-context');
const slot = globalThis as Record<symbol, AsyncLocalStorage<number> | undefined>;
const storage = (slot[kExecutionStorage] ??= new AsyncLocalStorage<number>());

export function runInExecution<T>(executionId: number, fn: () => T): T {
  return storage.run(executionId, fn);
}

export function currentExecutionId(): number | undefined {
  return storage.getStore();
}
