/**
 * Which handler execution is running right now. A bus call made inside a handler carries the
 * execution's id, so the invoker can lend that execution's slot to other work while the call
 * waits: this is what lets a handler call the API it serves, nested to any depth, with a
 * single worker and a concurrency of one, without deadlock.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<number>();

export function runInExecution<T>(executionId: number, fn: () => T): T {
  return storage.run(executionId, fn);
}

export function currentExecutionId(): number | undefined {
  return storage.getStore();
}
