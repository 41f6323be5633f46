/**
 * The main thread's view of one worker thread: it starts the thread, numbers the work it
 * posts, and keeps the work in flight on this thread, so that when the thread dies exactly
 * that work is failed or handed elsewhere (as Piscina's WorkerInfo and Temporal's
 * WorkerThreadClient do).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { deserializeError, serializeError } from '../errors.js';
import { ProgressBoard } from './batch-progress.js';
import { CommandForwarder, type CommandHandler } from './command-forwarder.js';
import { MessageBatcher } from './message-batcher.js';
import { workerEntry, workerExecArgv } from './worker-entry.js';
import { handlerKey } from './turn-plan.js';
import type { ClientCommand, Outcome, Registrations, ToInvoker, ToWorker, WorkerStartData } from './protocol.js';

/** Work posted to a worker and not yet answered. */
export interface InFlight {
  kind: 'rpc' | 'events' | 'task' | 'hooks';
  /** The message that was posted, to re-post it elsewhere if this thread dies. */
  message: ToWorker;
  startedAt: number;
  /** Past this time the worker is terminated (a handler stuck in synchronous code). */
  hardDeadlineAt?: number;
  resolve: (outcome: unknown) => void;
  /** For an event batch: its events that failed for good so far, by index (posted as they fail). */
  failures?: Map<number, Outcome<null>>;
  /** For an event batch, set when the thread died: how many of its events had finished (undefined: never started). */
  finished?: number;
  /** For an event batch, set when the thread died: the thread ran batches it could not track. */
  untracked?: boolean;
  /** For an event batch redelivered after crashes: how often each of its events crashed a thread. */
  crashes?: Map<string, number>;
}

export interface WorkerHandleOptions {
  workerId: number;
  modules: string[];
  config: ResolvedConfig;
  memoryLimitMb?: number;
  logger: Logger;
  /** Writes one log record of the worker to the process's output. */
  writeLog: (line: string) => void;
  /** A command from the bus inside the worker, for the invoker. */
  /** A command from the bus in the thread; `signal` aborts when the thread withdraws it (calls sent with a signal). */
  onCommand: CommandHandler;
  /** Ask the thread for the user's files it loaded ({@link WorkerHandle.loadedFiles}). */
  reportFiles?: boolean;
  /** The thread ended; `inFlight` is what it left unanswered. */
  onExit: (handle: WorkerHandle, code: number, inFlight: InFlight[], error: Error | undefined) => void;
}

const WORKER_YOUNG_GENERATION_MB = 8;


export class WorkerHandle {
  readonly id: number;
  readonly ready: Promise<Registrations>;
  private readonly worker: Worker;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly commands: CommandForwarder;
  /**
   * What this turn posts to the thread, as one array (the dispatch of a batch of calls is
   * synchronous: a microtask gathers it). The worker decides which share a turn (turn-plan.ts).
   */
  private readonly outbox = new MessageBatcher<ToWorker>((batch) => {
    if (!this.exited) this.worker.postMessage(batch);
  }, queueMicrotask);
  private requestSeq = 0;
  private readonly progress = new ProgressBoard();
  /** The RPC handlers (`rpc:{api}.{procedure}`, turn-plan.ts) this thread last said are quick. */
  readonly quickHandlers = new Set<string>();
  /** The listeners (`listener:{name}`) and APIs (`api:{name}`) whose handlers live in this thread. */
  readonly holds = new Set<string>();
  /** When the thread reported ready (0 until then). */
  readyAt = 0;
  /** The user's files the thread loaded, once ready, when asked for them (`reportFiles`). */
  loadedFiles: string[] = [];
  private lastError: Error | undefined;
  private exited = false;
  /** Set when the pool terminates the thread on purpose (hard deadline), to explain the failures. */
  terminationReason: string | undefined;

  constructor(private readonly options: WorkerHandleOptions) {
    this.id = options.workerId;
    this.commands = new CommandForwarder(options.onCommand, (requestId, outcome) => this.post({ type: 'reply', requestId, outcome }));
    const data: WorkerStartData = {
      workerId: options.workerId,
      modules: options.modules,
      config: options.config,
      logLevel: options.config.logLevel,
      progress: this.progress.buffer,
      ...(options.reportFiles ? { reportFiles: true as const } : {}),
    };
    this.worker = new Worker(workerEntry, {
      workerData: data,
      execArgv: workerExecArgv,
      resourceLimits: {
        // A small young generation: handlers allocate short-lived messages, and each worker's
        // default (16 MB semi-spaces) is most of an idle worker's memory.
        maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
        ...(options.memoryLimitMb ? { maxOldGenerationSizeMb: options.memoryLimitMb } : {}),
      },
    });
    this.ready = new Promise<Registrations>((resolve, reject) => {
      this.worker.on('message', (batch: ToInvoker[]) => {
        for (const message of batch) {
          if (message.type === 'ready') {
            this.readyAt = Date.now();
            if (message.files) this.loadedFiles = message.files;
            for (const api of message.registrations.apis) this.holds.add(`api:${api.name}`);
            for (const listener of message.registrations.listeners) this.holds.add(`listener:${listener.name}`);
            resolve(message.registrations);
          }
          else if (message.type === 'load-failed') reject(Object.assign(deserializeError(message.error), { modulePath: message.modulePath }));
          else this.receive(message);
        }
      });
      this.worker.once('exit', (code) => reject(this.lastError ?? new Error(`worker ${this.id} exited with code ${code} before it was ready`)));
    });
    this.ready.catch(() => undefined);
    this.worker.on('error', (error) => {
      this.lastError = error;
      options.logger.error({ err: error, worker: this.id }, 'worker thread failed');
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.commands.withdrawAll();
      const left = [...this.inFlight.values()];
      for (const work of left) {
        if (work.kind !== 'events') continue;
        const finished = this.progress.finished(work.message.type === 'execute-events' ? work.message.requestId : 0);
        if (finished !== undefined) work.finished = finished;
        work.untracked = this.progress.untracked;
      }
      this.inFlight.clear();
      options.onExit(this, code, left, this.lastError);
    });
  }

  get load(): number {
    return this.inFlight.size;
  }

  /** Whether messages wait for this turn's postMessage to the thread. */
  get gathering(): boolean {
    return this.outbox.pending > 0;
  }

  /**
   * Posts work and resolves with the worker's answer. An event batch resolves early when
   * `signal` aborts: with the outcomes of the events it had finished ({@link settleSoFar}).
   */
  run<T>(kind: InFlight['kind'], build: (requestId: number) => ToWorker, hardDeadlineMs?: number, crashes?: Map<string, number>, signal?: AbortSignal): Promise<T> {
    const requestId = ++this.requestSeq;
    const message = build(requestId);
    if (kind === 'events' && signal?.aborted) return Promise.resolve([] as T);
    return new Promise<T>((resolve) => {
      const work: InFlight = {
        kind,
        message,
        startedAt: Date.now(),
        ...(hardDeadlineMs !== undefined ? { hardDeadlineAt: Date.now() + hardDeadlineMs } : {}),
        ...(crashes ? { crashes } : {}),
        resolve: resolve as (v: unknown) => void,
      };
      if (kind === 'events' && signal) {
        const onAbort = () => this.settleSoFar(requestId);
        signal.addEventListener('abort', onAbort, { once: true });
        work.resolve = (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value as T);
        };
      }
      this.inFlight.set(requestId, work);
      this.outbox.send(message);
    });
  }

  /**
   * Cuts an event batch short and answers it with the outcomes of its finished events (a
   * success unless the worker posted a failure for it). The worker starts no event of the batch
   * once it sees the cut, so at most the one running now finishes unanswered. The count is read
   * after the cut; the worker posts each failure before it moves the count (worker.ts), so two
   * turns of this loop later every failure the count covers has arrived. The batch's own answer,
   * when it comes, is ignored.
   */
  private settleSoFar(requestId: number): void {
    if (!this.inFlight.has(requestId)) return;
    this.progress.cutShort(requestId);
    const finished = this.progress.finished(requestId) ?? 0;
    setImmediate(() =>
      setImmediate(() => {
        const work = this.inFlight.get(requestId);
        if (!work) return;
        this.inFlight.delete(requestId);
        work.resolve(Array.from({ length: finished }, (_, i): Outcome<null> => work.failures?.get(i) ?? { ok: true, value: null }));
      }),
    );
  }

  /**
   * Aborts the signal of the RPC handler running `executionId` here, if one is: its answer is
   * still awaited (the execution holds its slot until the handler settles). False when this
   * thread does not run it.
   */
  abortRpc(executionId: number, reason: Error): boolean {
    for (const [requestId, work] of this.inFlight) {
      if (work.message.type !== 'execute-rpc' || work.message.executionId !== executionId) continue;
      this.post({ type: 'abort', requestId, reason: serializeError(reason) });
      return true;
    }
    return false;
  }

  /** The oldest work past its hard deadline, if any. */
  overdue(now: number): InFlight | undefined {
    for (const work of this.inFlight.values()) if (work.hardDeadlineAt !== undefined && now > work.hardDeadlineAt) return work;
    return undefined;
  }

  post(message: ToWorker): void {
    if (!this.exited) this.outbox.send(message);
  }

  terminate(reason?: string): Promise<number> {
    if (reason) this.terminationReason = reason;
    return this.worker.terminate();
  }

  /** Resolves when the thread has ended. */
  exitedPromise(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  private receive(message: ToInvoker): void {
    switch (message.type) {
      case 'log':
        for (const line of message.lines) this.options.writeLog(line);
        return;
      case 'rpc-done': {
        const work = this.inFlight.get(message.requestId);
        if (work) {
          const key = handlerKey(work.message);
          if (message.quick) this.quickHandlers.add(key);
          else this.quickHandlers.delete(key);
        }
        return this.settle(message.requestId, message.outcome);
      }
      case 'task-done':
      case 'hooks-done':
        return this.settle(message.requestId, message.outcome);
      case 'events-done':
        this.progress.free(message.requestId);
        return this.settle(message.requestId, message.outcomes);
      case 'event-failed': {
        const work = this.inFlight.get(message.requestId);
        if (work) (work.failures ??= new Map()).set(message.index, message.outcome);
        return;
      }
      case 'ready':
      case 'load-failed':
        return;
      default: {
        // A command from the bus inside the worker: answered on the same port.
        this.commands.forward(message);
      }
    }
  }

  private settle(requestId: number, outcome: unknown): void {
    const work = this.inFlight.get(requestId);
    if (!work) return;
    this.inFlight.delete(requestId);
    work.resolve(outcome);
  }
}
