/**
 * The worker pool: an {@link Executor} that runs handlers in worker threads. It picks the
 * least-loaded live thread for each piece of work, replaces a thread that dies at once, and
 * settles the dead thread's work: RPCs answer "worker crashed", event batches go to another
 * thread immediately (not after the acknowledgement timeout), tasks and hooks fail. A thread
 * stuck in synchronous code past the hard deadline is terminated and replaced.
 */
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import type { ResolvedConfig } from '../config/schema.js';
import { BusClosedError, DeadlineExceededError, ModuleLoadError, WorkerCrashedError, serializeError } from '../errors.js';
import type { EventMessage, RpcCall } from '../transport/types.js';
import type { Executor } from './executor.js';
import type { ClientCommand, Outcome, Registrations } from './protocol.js';
import { WorkerHandle, type InFlight } from './worker-handle.js';

export interface WorkerPoolOptions {
  size: number;
  modules: string[];
  config: ResolvedConfig;
  logger: Logger;
  writeLog: (line: string) => void;
  onCommand: (command: ClientCommand) => Promise<Outcome>;
  /** RPC executions at once per worker. */
  concurrencyPerWorker: number;
  memoryLimitMb?: number;
  /** A replacement thread could not start: the process cannot go on serving. */
  onFatal: (error: Error) => void;
}

/** How far past its soft deadline a handler may run before its thread is terminated. */
export function hardDeadline(softMs: number | undefined): number | undefined {
  return softMs === undefined ? undefined : softMs + Math.max(1000, softMs);
}

const WATCHDOG_INTERVAL_MS = 250;

export class WorkerPool implements Executor {
  private readonly workers = new Map<number, WorkerHandle>();
  private readonly readyWorkers = new Set<WorkerHandle>();
  /** Work waiting for a live thread (all threads are starting or being replaced). */
  private waiting: Array<(worker: WorkerHandle) => void> = [];
  private nextWorkerId = 0;
  private closing = false;
  private watchdog: NodeJS.Timeout | undefined;
  private registrations: Registrations | undefined;
  /** The latest schemas on the bus, sent to every thread, including replacements. */
  private schemas: Record<string, ApiSchema> | undefined;

  constructor(private readonly options: WorkerPoolOptions) {}

  get rpcCapacity(): number {
    return this.options.size * this.options.concurrencyPerWorker;
  }

  get workerCount(): number {
    return this.readyWorkers.size;
  }

  /** Starts every thread; resolves with what the modules registered once all are ready. */
  async start(): Promise<Registrations> {
    const handles = Array.from({ length: this.options.size }, () => this.spawn());
    const results = await Promise.allSettled(handles.map((h) => h.ready));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.closing = true;
      await Promise.all(handles.map((h) => h.terminate()));
      const reason = failed.reason as Error & { modulePath?: string };
      // The user's error is the cause; the message says it once, with the module's path.
      throw new ModuleLoadError(
        reason.modulePath ? `could not load ${reason.modulePath}: ${reason.name}: ${reason.message}` : `a worker failed to start: ${reason.message}`,
        reason.modulePath ?? '',
        { cause: reason },
      );
    }
    this.watchdog = setInterval(() => this.checkDeadlines(), WATCHDOG_INTERVAL_MS);
    this.watchdog.unref();
    this.registrations = (results[0] as PromiseFulfilledResult<Registrations>).value;
    return this.registrations;
  }

  executeRpc(call: RpcCall, executionId: number): Promise<Outcome> {
    const api = this.registrations?.apis.find((a) => a.name === call.api);
    return this.dispatch<Outcome>('rpc', (requestId) => ({ type: 'execute-rpc', requestId, executionId, call }), hardDeadline(api?.deadlineMs));
  }

  executeEvents(listener: string, events: Array<EventMessage & { streamId: string }>, executionId: number): Promise<Outcome<null>[]> {
    const descriptor = this.registrations?.listeners.find((l) => l.name === listener);
    return this.dispatch<Outcome<null>[]>(
      'events',
      (requestId) => ({ type: 'execute-events', requestId, executionId, listener, events }),
      hardDeadline(descriptor?.deadlineMs && descriptor.deadlineMs * events.length),
    );
  }

  runTask(name: string, executionId: number): Promise<Outcome<null>> {
    return this.dispatch<Outcome<null>>('task', (requestId) => ({ type: 'run-task', requestId, executionId, task: name }));
  }

  runHooks(phase: 'start' | 'stop'): Promise<Outcome<null>> {
    return this.dispatch<Outcome<null>>('hooks', (requestId) => ({ type: 'run-hooks', requestId, phase }));
  }

  /** Hands the schemas on the bus to every thread (and to threads started later). */
  setSchemas(schemas: Record<string, ApiSchema>): void {
    this.schemas = schemas;
    for (const worker of this.workers.values()) worker.post({ type: 'schemas', schemas });
  }

  /** Asks every thread to end, and terminates those that do not within `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    this.closing = true;
    clearInterval(this.watchdog);
    const handles = [...this.workers.values()];
    for (const handle of handles) handle.post({ type: 'shutdown' });
    await Promise.all(
      handles.map(async (handle) => {
        const timer = setTimeout(() => void handle.terminate(), graceMs);
        await handle.exitedPromise();
        clearTimeout(timer);
      }),
    );
  }

  private spawn(): WorkerHandle {
    const { modules, config, logger, writeLog, onCommand, memoryLimitMb } = this.options;
    const handle = new WorkerHandle({
      workerId: ++this.nextWorkerId,
      modules,
      config,
      logger,
      writeLog,
      onCommand,
      ...(memoryLimitMb ? { memoryLimitMb } : {}),
      onExit: (h, code, inFlight, error) => this.onExit(h, code, inFlight, error),
    });
    this.workers.set(handle.id, handle);
    if (this.schemas) handle.post({ type: 'schemas', schemas: this.schemas });
    handle.ready.then(
      () => {
        this.readyWorkers.add(handle);
        this.flushWaiting();
      },
      () => undefined,
    );
    return handle;
  }

  private dispatch<T>(kind: InFlight['kind'], build: Parameters<WorkerHandle['run']>[1], hardDeadlineMs?: number): Promise<T> {
    const worker = this.leastLoaded();
    if (worker) return worker.run<T>(kind, build, hardDeadlineMs);
    if (this.closing) {
      // No thread will come: answer now rather than wait forever.
      const failed: Outcome<never> = { ok: false, error: serializeError(new BusClosedError(`cannot run this ${kind}: the worker pool is closed`)) };
      return Promise.resolve((kind === 'events' ? [failed] : failed) as T);
    }
    return new Promise<WorkerHandle>((resolve) => this.waiting.push(resolve)).then((w) => w.run<T>(kind, build, hardDeadlineMs));
  }

  private leastLoaded(): WorkerHandle | undefined {
    let best: WorkerHandle | undefined;
    for (const worker of this.readyWorkers) if (!best || worker.load < best.load) best = worker;
    return best;
  }

  private flushWaiting(): void {
    while (this.waiting.length > 0) {
      const worker = this.leastLoaded();
      if (!worker) return;
      this.waiting.shift()!(worker);
    }
  }

  private onExit(handle: WorkerHandle, code: number, inFlight: InFlight[], error: Error | undefined): void {
    this.workers.delete(handle.id);
    const wasReady = this.readyWorkers.delete(handle);
    if (this.closing) return;
    const reason = handle.terminationReason ?? `worker ${handle.id} exited with code ${code}${error ? `: ${error.message}` : ''}`;
    this.options.logger.error({ worker: handle.id, code, inFlight: inFlight.length }, `${reason}; replacing it`);
    if (wasReady) {
      const replacement = this.spawn();
      replacement.ready.catch((startError: Error) => {
        this.options.onFatal(new Error(`a replacement worker could not start: ${startError.message}`));
      });
    }
    for (const work of inFlight) this.settleOrphan(work, handle, reason);
  }

  /** Settles the work a dead thread left: redeliver events elsewhere, fail the rest as data. */
  private settleOrphan(work: InFlight, handle: WorkerHandle, reason: string): void {
    const deadlineHit = handle.terminationReason !== undefined && work.hardDeadlineAt !== undefined && Date.now() > work.hardDeadlineAt;
    const error = deadlineHit ? new DeadlineExceededError(reason) : new WorkerCrashedError(`${reason} while running this ${work.kind === 'rpc' ? 'RPC' : work.kind}`);
    const failed: Outcome<never> = { ok: false, error: serializeError(error) };
    const message = work.message;
    if (work.kind === 'events' && message.type === 'execute-events') {
      if (deadlineHit) {
        // Redelivering a batch that wedges its thread would wedge the next one: fail its first event.
        work.resolve([failed]);
        return;
      }
      void this.dispatch<Outcome<null>[]>('events', (requestId) => ({ ...message, requestId }), work.hardDeadlineAt && work.hardDeadlineAt - work.startedAt).then(work.resolve);
      return;
    }
    work.resolve(work.kind === 'events' ? [failed] : failed);
  }

  private checkDeadlines(): void {
    const now = Date.now();
    for (const worker of this.readyWorkers) {
      const overdue = worker.overdue(now);
      if (!overdue) continue;
      void worker.terminate(`worker ${worker.id} was terminated: a ${overdue.kind === 'rpc' ? 'RPC' : overdue.kind} handler ran ${now - overdue.startedAt} ms, past its hard deadline`);
    }
  }
}
