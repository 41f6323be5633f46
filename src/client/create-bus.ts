/**
 * `createBus()`: the entry point of user code. In a worker thread of `lightbus run` it returns
 * a bus wired to the invoker in the main thread; anywhere else, a bus with its own invoker.
 * The runtime announces a worker through a global symbol rather than a module variable, so
 * the check holds even when the user's code loads a second copy of this package.
 */
import { kWorkerBackend } from '../runtime/worker-backend.js';
import { Bus } from './bus.js';
import type { BusBackend } from '../runtime/bus-backend.js';
import { ProcessBackend, type ProcessBusOptions } from './process-backend.js';


export type CreateBusOptions = ProcessBusOptions;

export function createBus(options: CreateBusOptions = {}): Bus {
  const workerBackend = (globalThis as Record<symbol, BusBackend | undefined>)[kWorkerBackend];
  return new Bus(workerBackend ?? new ProcessBackend(options));
}
