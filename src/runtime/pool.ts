/**
 * The worker pool: an {@link Executor} that runs handlers in worker threads. It picks the
 * least-loaded live thread that holds the handler for each piece of work, replaces a thread
 * that dies (at once, then with a growing delay if replacements keep dying), and settles the
 * dead thread's work: RPCs answer "worker crashed", event batches go to another thread
 * immediately (not after the acknowledgement timeout) except the event that was running, which
 * is counted, runs again alone on the quarantine thread (quarantine.ts) and fails past
 * `runner.maxCrashRedeliveries` (crashed-batch.ts); tasks and hooks fail. A thread stuck in
 * synchronous code past the hard deadline is terminated and replaced.
 */
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import type { ResolvedConfig } from '../config/schema.js';
import { BusClosedError, DeadlineExceededError, ModuleLoadError, WorkerCrashedError, serializeError } from '../errors.js';
import type { EventMessage, RpcCall } from '../transport/types.js';
import type { Executor } from './executor.js';
import { CrashCounts, crashKey, judgeCrashedBatch, runAgainAlone } from './crashed-batch.js';
import { LISTENER_NOT_HERE } from './handler-runner.js';
import type { ClientCommand, ListenerDescriptor, Outcome, Registrations } from './protocol.js';
import type { CommandHandler } from './command-forwarder.js';
import { QuarantineLane } from './quarantine.js';
import { WorkerHandle, type InFlight } from './worker-handle.js';
import { rpcHandlerKey } from './turn-plan.js';

export interface WorkerPoolOptions {
  size: number;
  modules: string[];
  config: ResolvedConfig;
  logger: Logger;
  writeLog: (line: string) => void;
  onCommand: CommandHandler;
  /** RPC executions at once per worker. */
  concurrencyPerWorker: number;
  memoryLimitMb?: number;
  /** Have the threads list the user's files they load ({@link WorkerPool.loadedFiles}). */
  reportFiles?: boolean;
  /** How often an event that crashed its worker is run again before it fails with `WorkerCrashedError`. */
  maxCrashRedeliveries: number;
  /** A replacement thread could not start: the process cannot go on serving. */
  onFatal: (error: Error) => void;
  /** A thread died and a replacement is on its way (metrics). */
  onWorkerReplaced?: (() => void) | undefined;
}

/** How far past its soft deadline a handler may run before its thread is terminated. */
export function hardDeadline(softMs: number | undefined): number | undefined {
  return softMs === undefined ? undefined : softMs + Math.max(1000, softMs);
}

const WATCHDOG_INTERVAL_MS = 250;
/** A thread that lived this long after ready died of something else than a crash loop. */
const STABLE_LIFETIME_MS = 10_000;
const RESPAWN_DELAY_MS = 100;
const MAX_RESPAWN_DELAY_MS = 5000;

type BatchEvent = EventMessage & { streamId: string };

/** An event batch of a dead thread had an event running: that event is blamed (and counted) for the death. */
function eventWasRunning(work: InFlight): boolean {
  return work.kind === 'events' && work.message.type === 'execute-events' && work.finished !== undefined && work.finished < work.message.events.length;
}

/** How {@link WorkerPool.dispatch} places and bounds a piece of work; every field is optional. */
interface Placement {
  /** When the thread running it is terminated (its handler's hard deadline). */
  hardDeadlineMs?: number | undefined;
  /** The listener (`listener:{name}`) or API (`api:{name}`) a thread must hold to run it. */
  holder?: string;
  /** For an event batch redelivered after crashes: how often each of its events crashed a thread. */
  crashes?: Map<string, number> | undefined;
  signal?: AbortSignal | undefined;
  /** The RPC handler's key (turn-plan.ts), when the work may join a thread's turn if that handler is quick. */
  quickKey?: string;
}

/** Work waiting for a live thread that can run it. */
interface Waiting {
  accepts: (worker: WorkerHandle) => boolean;
  resolve: (worker: WorkerHandle) => void;
}

export class WorkerPool implements Executor {
  private readonly workers = new Map<number, WorkerHandle>();
  private readonly readyWorkers = new Set<WorkerHandle>();
  /** Work waiting for a live thread (all threads are starting or being replaced). */
  private waiting: Waiting[] = [];
  private nextWorkerId = 0;
  private closing = false;
  private watchdog: NodeJS.Timeout | undefined;
  private registrations: Registrations | undefined;
  /** The latest schemas on the bus, sent to every thread, including replacements. */
  private schemas: Record<string, ApiSchema> | undefined;
  /** Every listener any thread registered (at import or later), for its `onError` policy. */
  private readonly listeners = new Map<string, ListenerDescriptor>();
  /** Handlers registered after start (onStart, a handler) whose threads all died: reported once each. */
  private readonly lostReported = new Set<string>();
  /** Threads that died soon after they became ready, in a row: the replacement waits longer each time. */
  private quickDeaths = 0;
  private readonly pendingRespawns = new Set<NodeJS.Timeout>();
  /** Events that crashed a thread and have not settled since: how often each did. */
  private readonly crashCounts = new CrashCounts();
  private readonly quarantine = new QuarantineLane(() => this.spawn('quarantine'));

  constructor(private readonly options: WorkerPoolOptions) {}

  get rpcCapacity(): number {
    return this.options.size * this.options.concurrencyPerWorker;
  }

  get workerCount(): number {
    return this.readyWorkers.size;
  }

  get threadCount(): number {
    return this.options.size;
  }

  /** The user's files the threads loaded (with `reportFiles`; every thread loads the same). */
  get loadedFiles(): string[] {
    return this.registrations ? [...this.readyWorkers][0]?.loadedFiles ?? [] : [];
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
    for (const listener of this.registrations.listeners) this.listeners.set(listener.name, listener);
    return this.registrations;
  }

  executeRpc(call: RpcCall, executionId: number): Promise<Outcome> {
    const api = this.registrations?.apis.find((a) => a.name === call.api);
    return this.dispatch<Outcome>('rpc', (requestId) => ({ type: 'execute-rpc', requestId, executionId, call }), { hardDeadlineMs: hardDeadline(api?.deadlineMs), holder: `api:${call.api}`, quickKey: rpcHandlerKey(call) });
  }

  abortRpc(executionId: number, reason: Error): void {
    for (const worker of this.workers.values()) if (worker.abortRpc(executionId, reason)) return;
  }

  executeEvents(listener: string, events: BatchEvent[], executionId: number, signal?: AbortSignal): Promise<Outcome<null>[]> {
    const descriptor = this.listeners.get(listener);
    const build = (requestId: number): Extract<InFlight['message'], { type: 'execute-events' }> => ({ type: 'execute-events', requestId, executionId, listener, events });
    const deadline = hardDeadline(descriptor?.deadlineMs && descriptor.deadlineMs * events.length);
    const holder = `listener:${listener}`;
    const crashes = this.crashCounts.size > 0 ? this.crashCounts.of(listener, events) : undefined;
    if (!crashes) return this.dispatch<Outcome<null>[]>('events', build, { hardDeadlineMs: deadline, holder, signal });
    // Only a thread started from the modules holds a listener registered at import; one
    // registered later lives in the thread that registered it, where its events must run.
    const alone = events.length === 1 && this.heldAtImport(holder);
    const run = alone
      ? this.quarantine
          .run((worker) => worker.run<Outcome<null>[]>('events', build, deadline, crashes, signal))
          .catch(() => this.dispatch<Outcome<null>[]>('events', build, { hardDeadlineMs: deadline, holder, crashes, signal }))
      : this.dispatch<Outcome<null>[]>('events', build, { hardDeadlineMs: deadline, holder, crashes, signal });
    return run.then((outcomes) => {
      this.crashCounts.settled(listener, events, outcomes);
      return outcomes;
    });
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
    this.quarantine.close();
    clearInterval(this.watchdog);
    for (const timer of this.pendingRespawns) clearTimeout(timer);
    this.pendingRespawns.clear();
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

  /** Starts a thread: one of the pool's (dispatched to once ready) or the quarantine lane's. */
  private spawn(role: 'pool' | 'quarantine' = 'pool'): WorkerHandle {
    const { modules, config, logger, writeLog, onCommand, memoryLimitMb, reportFiles } = this.options;
    const handle = new WorkerHandle({
      workerId: ++this.nextWorkerId,
      modules,
      config,
      logger,
      writeLog,
      onCommand: (command, signal) => {
        this.noteRegistration(handle, command);
        return onCommand(command, signal);
      },
      ...(memoryLimitMb ? { memoryLimitMb } : {}),
      ...(reportFiles ? { reportFiles } : {}),
      onExit: (h, code, inFlight, error) => this.onExit(h, code, inFlight, error),
    });
    this.workers.set(handle.id, handle);
    if (this.schemas) handle.post({ type: 'schemas', schemas: this.schemas });
    if (role === 'quarantine') return handle;
    handle.ready.then(
      () => {
        this.readyWorkers.add(handle);
        this.flushWaiting();
      },
      () => undefined,
    );
    return handle;
  }

  /**
   * Posts work to the least-loaded ready thread holding `holder` (its listener or API), or
   * waits for one. A call to a handler known to be quick (`quickKey`) joins the calls already
   * posted to a thread in this turn, while that thread has slots: the calls of one read then
   * cost the threads one wake-up and one postMessage, not one per thread, and their answers
   * come back together (2 threads, 64 in flight: 53-57 µs of CPU per RPC instead of 60-63,
   * docs/benchmark.md). A handler not known to be quick is spread, as CPU-bound work must be.
   * A handler registered after start (in onStart, in a handler) lives only in the thread that
   * registered it: once that thread died no thread will hold it again, and
   * the work is answered at once with an outcome no policy acknowledges.
   */
  private dispatch<T>(kind: InFlight['kind'], build: Parameters<WorkerHandle['run']>[1], placement: Placement = {}): Promise<T> {
    const { hardDeadlineMs, holder, crashes, signal, quickKey } = placement;
    const accepts = holder === undefined ? () => true : (worker: WorkerHandle) => worker.holds.has(holder);
    const worker = (quickKey !== undefined && this.gatheringQuick(accepts, quickKey)) || this.leastLoaded(accepts);
    if (worker) return worker.run<T>(kind, build, hardDeadlineMs, crashes, signal);
    if (this.closing) {
      // No thread will come: answer now rather than wait forever.
      const failed: Outcome<never> = { ok: false, error: serializeError(new BusClosedError(`cannot run this ${kind}: the worker pool is closed`)) };
      return Promise.resolve((kind === 'events' ? [failed] : failed) as T);
    }
    if (holder !== undefined && this.registrations && !this.heldAtImport(holder)) return Promise.resolve(this.lost<T>(kind, holder));
    return new Promise<WorkerHandle>((resolve) => this.waiting.push({ accepts, resolve })).then((w) => w.run<T>(kind, build, hardDeadlineMs, crashes, signal));
  }

  /** Whether the modules register this handler at import: every thread, replacements too, will hold it. */
  private heldAtImport(holder: string): boolean {
    // Before every thread reported ready, what reaches the pool was registered while the modules
    // loaded, at import: every thread will hold it.
    if (!this.registrations) return true;
    const { apis, listeners } = this.registrations;
    return holder.startsWith('api:') ? apis.some((a) => `api:${a.name}` === holder) : listeners.some((l) => `listener:${l.name}` === holder);
  }

  private lost<T>(kind: InFlight['kind'], holder: string): T {
    const [what, name] = [holder.startsWith('api:') ? 'API' : 'listener', holder.slice(holder.indexOf(':') + 1)];
    const message = `no worker holds the ${what} "${name}": it was registered after start (in onStart or a handler), so only the thread that registered it had its handler, and that thread died. Register it at the top level of a module given to lightbus run, so every worker (and every replacement) holds it`;
    if (!this.lostReported.has(holder)) {
      this.lostReported.add(holder);
      this.options.logger.error({ [what === 'API' ? 'api' : 'listener']: name }, message);
    }
    const error = kind === 'events' ? { name: LISTENER_NOT_HERE, message } : serializeError(new WorkerCrashedError(message));
    const failed: Outcome<never> = { ok: false, error };
    return (kind === 'events' ? [failed] : failed) as T;
  }

  /** A thread registered (or stopped) a handler: route that handler's work to it. */
  private noteRegistration(handle: WorkerHandle, command: ClientCommand): void {
    if (command.type === 'listen') {
      handle.holds.add(`listener:${command.listener.name}`);
      this.listeners.set(command.listener.name, command.listener);
      if (handle.readyAt > 0 && !this.registrations?.listeners.some((l) => l.name === command.listener.name)) {
        this.options.logger.info(
          { listener: command.listener.name, worker: handle.id },
          'listener registered after start: only this worker holds its handler, so its events run there only (register it at the top level of a module to spread them over every worker)',
        );
      }
    } else if (command.type === 'serve') {
      handle.holds.add(`api:${command.api.name}`);
    } else if (command.type === 'stop-listener') {
      handle.holds.delete(`listener:${command.name}`);
    }
  }

  /** A thread this turn already posts to, for which `quickKey` is quick, with a slot free. */
  private gatheringQuick(accepts: (worker: WorkerHandle) => boolean, quickKey: string): WorkerHandle | undefined {
    for (const worker of this.readyWorkers) {
      if (worker.gathering && worker.load < this.options.concurrencyPerWorker && worker.quickHandlers.has(quickKey) && accepts(worker)) return worker;
    }
    return undefined;
  }

  private leastLoaded(accepts: (worker: WorkerHandle) => boolean): WorkerHandle | undefined {
    let best: WorkerHandle | undefined;
    for (const worker of this.readyWorkers) if (accepts(worker) && (!best || worker.load < best.load)) best = worker;
    return best;
  }

  private flushWaiting(): void {
    const still: Waiting[] = [];
    for (const waiting of this.waiting) {
      const worker = this.leastLoaded(waiting.accepts);
      if (worker) waiting.resolve(worker);
      else still.push(waiting);
    }
    this.waiting = still;
  }

  private onExit(handle: WorkerHandle, code: number, inFlight: InFlight[], error: Error | undefined): void {
    this.workers.delete(handle.id);
    const wasReady = this.readyWorkers.delete(handle);
    if (this.closing) return;
    const reason = handle.terminationReason ?? `worker ${handle.id} exited with code ${code}${error ? `: ${error.message}` : ''}`;
    if (this.quarantine.owns(handle)) {
      // Not replaced: the next event to run alone starts a new one.
      this.quarantine.exited(handle);
      if (inFlight.length > 0) this.options.logger.error({ worker: handle.id, code, quarantine: true }, `${reason} (the thread where events that crashed a worker run again alone)`);
      for (const work of inFlight) this.settleOrphan(work, handle, reason);
      return;
    }
    if (wasReady) {
      // A thread that dies soon after its start, again and again, is replaced ever later: the
      // first at once, the next after 100 ms, 200 ms... up to 5 s. A death an event is blamed
      // for is no such loop: runner.maxCrashRedeliveries bounds it, and delaying its
      // replacement would stall every other event of the process behind one poison event.
      const blamed = inFlight.some(eventWasRunning);
      if (!blamed) this.quickDeaths = Date.now() - handle.readyAt < STABLE_LIFETIME_MS ? this.quickDeaths + 1 : 1;
      const delayMs = blamed || this.quickDeaths <= 1 ? 0 : Math.min(MAX_RESPAWN_DELAY_MS, RESPAWN_DELAY_MS * 2 ** (this.quickDeaths - 2));
      this.options.logger.error({ worker: handle.id, code, inFlight: inFlight.length, respawnInMs: delayMs }, `${reason}; replacing it`);
      this.options.onWorkerReplaced?.();
      this.respawnAfter(delayMs);
    } else {
      this.options.logger.error({ worker: handle.id, code, inFlight: inFlight.length }, `${reason}; replacing it`);
    }
    for (const work of inFlight) this.settleOrphan(work, handle, reason);
  }

  private respawnAfter(delayMs: number): void {
    const respawn = () => {
      if (this.closing) return;
      this.spawn().ready.catch((startError: Error) => {
        // Told to end while starting (the pool closes): no failure.
        if (!this.closing) this.options.onFatal(new Error(`a replacement worker could not start: ${startError.message}`));
      });
    };
    if (delayMs === 0) return respawn();
    const timer = setTimeout(() => {
      this.pendingRespawns.delete(timer);
      respawn();
    }, delayMs);
    this.pendingRespawns.add(timer);
  }

  /** Settles the work a dead thread left: redeliver events elsewhere, fail the rest as data. */
  private settleOrphan(work: InFlight, handle: WorkerHandle, reason: string): void {
    const deadlineHit = handle.terminationReason !== undefined && work.hardDeadlineAt !== undefined && Date.now() > work.hardDeadlineAt;
    const error = deadlineHit ? new DeadlineExceededError(reason) : new WorkerCrashedError(`${reason} while running this ${work.kind === 'rpc' ? 'RPC' : work.kind}`);
    const failed: Outcome<never> = { ok: false, error: serializeError(error) };
    const message = work.message;
    if (work.kind === 'events' && message.type === 'execute-events') {
      this.redeliverCrashed(work, message, reason, deadlineHit ? error : undefined);
      return;
    }
    work.resolve(work.kind === 'events' ? [failed] : failed);
  }

  /** Settles what a crashed batch finished, blames the event that was running, runs the rest again. */
  private redeliverCrashed(work: InFlight, message: Extract<InFlight['message'], { type: 'execute-events' }>, reason: string, deadlineError?: Error): void {
    const policy = this.listeners.get(message.listener)?.onError;
    const stopsAtFailure = policy === 'shutdown' || policy === 'stop-listener';
    const verdict = judgeCrashedBatch(work, message.events, stopsAtFailure, this.options.maxCrashRedeliveries, reason, deadlineError);
    const logger = this.options.logger.child({ listener: message.listener });
    if (verdict.kind === 'settle') {
      if (verdict.failed) {
        const { event, crashes } = verdict.failed;
        logger.error(
          { event: `${event.api}.${event.event}`, eventId: event.id, streamId: event.streamId, crashes },
          `event handler crashed its worker ${crashes} times; failing the event with WorkerCrashedError (the listener's onError applies)`,
        );
      }
      work.resolve(verdict.outcomes);
      return;
    }
    this.crashCounts.record(message.listener, verdict.crashes);
    for (const event of verdict.blamed) {
      const crashes = verdict.crashes.get(crashKey(event));
      logger.warn({ event: `${event.api}.${event.event}`, eventId: event.id, streamId: event.streamId, crashes }, 'event was running when its worker died; running it again');
    }
    const [running, ...rest] = verdict.redeliver;
    if (stopsAtFailure || verdict.blamed.length !== 1 || verdict.blamed[0] !== running) {
      // In order, together: the policy ends the batch at its first failure, or the thread ran
      // batches it could not track and any event may be guilty.
      void this.executeEvents(message.listener, verdict.redeliver, message.executionId).then((more) => work.resolve([...verdict.outcomes, ...more]));
      return;
    }
    // The blamed event goes back to its listener, to run again alone on the quarantine thread
    // without holding the listener's slot; the events after it, which never ran, run again at
    // once on the pool's threads (the listener's policy lets each event fail alone).
    const alone = runAgainAlone(reason);
    // With orderBy, the rest must not overtake the blamed event (it may share its key): the
    // listener gets them back unrun and runs them once the blamed event has settled.
    const ordered = this.listeners.get(message.listener)?.orderBy !== undefined;
    if (rest.length === 0 || ordered) return work.resolve([...verdict.outcomes, alone]);
    void this.executeEvents(message.listener, rest, message.executionId).then((restOutcomes) => work.resolve([...verdict.outcomes, alone, ...restOutcomes]));
  }

  private checkDeadlines(): void {
    const now = Date.now();
    // Every thread, the quarantine's too (it is never among the ready ones).
    for (const worker of this.workers.values()) {
      const overdue = worker.overdue(now);
      if (!overdue) continue;
      void worker.terminate(`worker ${worker.id} was terminated: a ${overdue.kind === 'rpc' ? 'RPC' : overdue.kind} handler ran ${now - overdue.startedAt} ms, past its hard deadline`);
    }
  }
}
