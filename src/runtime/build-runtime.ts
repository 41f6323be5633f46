/**
 * The one place a runtime is put together: the transports (so the Redis connections), the
 * invoker that owns them, and the executor it hands work to. `lightbus run` (runner.ts, with
 * worker threads or `--inline`) and a bus in a plain process (client/process-backend.ts) both
 * build theirs here, so they differ only in the executor and in what a fatal condition does.
 */
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import type { ResolvedConfig } from '../config/schema.js';
import { createTransports } from '../transport/index.js';
import type { MemoryStore } from '../transport/memory/store.js';
import type { Executor } from './executor.js';
import { Invoker } from './invoker.js';
import type { RuntimeObserver } from './observer.js';
import type { ClientCommand, Outcome } from './protocol.js';

export interface RuntimeOptions<E extends Executor> {
  config: ResolvedConfig;
  logger: Logger;
  /** With `transport: 'memory'`: the store standing for the Redis server. */
  memoryStore?: MemoryStore;
  /**
   * Builds the executor. `handle` is the invoker's entry for commands from the handlers' buses
   * (calls, fires, late registrations); the executor exists before the invoker, which needs it.
   */
  executor: (handle: (command: ClientCommand, signal?: AbortSignal) => Promise<Outcome>) => E;
  /** A listener whose `onError` is `shutdown` failed. */
  onShutdownRequested: (reason: Error) => void;
  /** The schemas on the bus changed: hand them to whatever validates. */
  onRemoteSchemas: (schemas: Record<string, ApiSchema>) => void;
  /** Metrics: told of every call, execution, fire and batch. */
  observer?: RuntimeObserver | undefined;
}

export interface Runtime<E extends Executor> {
  invoker: Invoker;
  executor: E;
}

export function buildRuntime<E extends Executor>(options: RuntimeOptions<E>): Runtime<E> {
  const { config, logger } = options;
  const transports = createTransports(config, logger, options.memoryStore);
  let invoker: Invoker | undefined;
  const executor = options.executor((command, signal) => invoker!.handle(command, signal));
  invoker = new Invoker({
    config,
    transports,
    executor,
    logger,
    onShutdownRequested: options.onShutdownRequested,
    onRemoteSchemas: options.onRemoteSchemas,
    observer: options.observer,
  });
  return { invoker, executor };
}
