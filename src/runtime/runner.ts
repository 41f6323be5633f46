/**
 * `lightbus run` as a plain module: builds the runtime (build-runtime.ts) with the worker pool,
 * or with the modules loaded in this thread (`inline`), starts it in order, and stops it in
 * order on a signal. Commands flow one way (worker -> invoker -> Redis); nothing here hands a client object around to signal shutdown: a fatal
 * condition calls {@link BusRunner.stop} with an exit code.
 */
import { availableParallelism } from 'node:os';
import type { ResolvedConfig } from '../config/schema.js';
import type { LogOutput } from '../logging/logger.js';
import { redactUrl } from '../core/redact-url.js';
import { settleWithin } from '../util/timeouts.js';
import { buildRuntime } from './build-runtime.js';
import type { ModuleExecutor } from './executor.js';
import { checkHealth, checkReadiness, type Phase, type ProbeReport } from './health.js';
import { InlineModuleExecutor } from './inline-modules.js';
import type { RuntimeLevels, RuntimeObserver } from './observer.js';
import type { Invoker } from './invoker.js';
import { WorkerPool } from './pool.js';
import type { ClientCommand, Outcome, Registrations } from './protocol.js';
import { importedServingWarning } from '../util/module-origins.js';
import type { ModuleLoadError } from '../errors.js';
import { registrationChanges, type RegistrationChanges } from './registration-changes.js';
import { ReloadingPool } from './reloading-pool.js';
import { flushSpans } from '../tracing/tracer.js';

export type Feature = 'rpcs' | 'events' | 'tasks';

export interface RunOptions {
  /** Absolute paths of the user's modules. */
  modules: string[];
  config: ResolvedConfig;
  log: LogOutput;
  /** Worker threads (default: config, else available parallelism). */
  workers?: number;
  /** What to run (default all). */
  features?: ReadonlySet<Feature>;
  /** Load the modules and run the handlers in this thread, with no worker threads (`--inline`). */
  inline?: boolean;
  /** Make {@link BusRunner.reload} possible (`--watch`): the threads list the files they load. Not with `inline`. */
  reloadable?: boolean;
  /** Metrics (`--metrics-port`): told of every call, execution, fire, batch and worker replacement. */
  observer?: RuntimeObserver;
}

/** What {@link BusRunner.reload} did: served the new code, or left the old one serving. */
export type ReloadOutcome = { ok: true; changes: RegistrationChanges; reloadMs: number } | { ok: false; error: ModuleLoadError };

const DEFAULT_CONCURRENCY_PER_WORKER = 32;
const POOL_CLOSE_GRACE_MS = 2000;
/** How often start-up says it is still waiting for Redis. */
const REDIS_WAIT_NOTICE_MS = 3000;
/** What closing the connections gets when the handlers used up the whole grace period. */
const MIN_CLOSE_MS = 500;
/** How long stopping waits for this thread's tracing SDK, if any, to export what it buffers. */
const SPAN_FLUSH_MS = 1000;

/** Thrown by {@link BusRunner.start} when {@link BusRunner.stop} was called before it was done. */
class StoppedWhileStarting extends Error {
  constructor() {
    super('stopped while starting');
  }
}

export class BusRunner {
  private invoker: Invoker | undefined;
  /** Where handlers run: the worker pool, or the invoker's thread with `inline`. */
  private executor: ModuleExecutor | undefined;
  /** What the modules registered; unset until every worker loaded them. */
  private registrations: Registrations | undefined;
  /** What this process runs of it (`--only`/`--skip`), once started. */
  private selected: Registrations | undefined;
  private stopping: Promise<number> | undefined;
  private stoppedCode: number | undefined;
  private startedAt = 0;
  private running = false;
  /** Resolves with the exit code once the runner stopped, whatever stopped it. */
  readonly stopped: Promise<number>;
  private resolveStopped!: (code: number) => void;
  /** Resolves as soon as {@link stop} is called: start-up steps waiting on Redis give up then. */
  private readonly stopCalled: Promise<void>;
  private resolveStopCalled!: () => void;

  constructor(private readonly options: RunOptions) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.stopCalled = new Promise((resolve) => (this.resolveStopCalled = resolve));
  }

  /** Whether {@link stop} was called (a signal, a fatal condition), possibly while still starting. */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  async start(): Promise<Registrations> {
    const { config, log, modules } = this.options;
    const logger = log.logger;
    const size = this.options.workers ?? config.runner.workers ?? availableParallelism();
    this.startedAt = Date.now();
    const features = this.options.features ?? ALL_FEATURES;
    const concurrency = config.runner.concurrency ?? DEFAULT_CONCURRENCY_PER_WORKER;
    const { invoker, executor } = buildRuntime<ModuleExecutor>({
      config,
      logger,
      // Commands from the modules' buses are taken even before every worker is ready: a call
      // made at import time waits in Redis until a worker serves it, it never fails as "not
      // ready". A serve or listen is started at once, even before every worker is ready, so
      // that a module may await it; one this process does not run (`--only`) is answered as done.
      executor: (handle) => {
        const onCommand = (command: ClientCommand, signal?: AbortSignal) => (notRunHere(command, features) ? Promise.resolve(NOT_RUN) : handle(command, signal));
        if (this.options.inline) return new InlineModuleExecutor({ modules, config, logger, onCommand, concurrency });
        const pool = (commands: typeof onCommand) => new WorkerPool({
          size,
          modules,
          config,
          logger,
          writeLog: (line) => log.write(line),
          onCommand: commands,
          concurrencyPerWorker: concurrency,
          ...(config.runner.workerMemoryLimitMb ? { memoryLimitMb: config.runner.workerMemoryLimitMb } : {}),
          maxCrashRedeliveries: config.runner.maxCrashRedeliveries,
          onWorkerReplaced: this.options.observer ? () => this.options.observer!.workerReplaced() : undefined,
          onFatal: (error) => {
            logger.fatal({ err: error }, 'cannot go on; stopping');
            void this.stop(1);
          },
          ...(this.options.reloadable ? { reportFiles: true } : {}),
        });
        if (!this.options.reloadable) return pool(onCommand);
        return new ReloadingPool({ makePool: pool, onCommand, logger, retireGraceMs: config.runner.shutdownGraceMs, closeGraceMs: POOL_CLOSE_GRACE_MS });
      },
      onShutdownRequested: () => void this.stop(1),
      onRemoteSchemas: (schemas) => executor.setSchemas(schemas),
      observer: this.options.observer,
    });
    this.invoker = invoker;
    this.executor = executor;
    let registrations: Registrations;
    try {
      await this.waitingForRedis(invoker.start());
      registrations = await executor.start();
      this.registrations = registrations;
    } catch (error) {
      // stop() closes what a stop interrupted; a failure closes here, as bounded as a stop.
      if (!(error instanceof StoppedWhileStarting)) await settleWithin(invoker.close(0), config.runner.shutdownGraceMs);
      throw error;
    }
    warnIfNothingRegistered(registrations, modules, logger);
    for (const found of registrations.importedServing ?? []) {
      logger.warn({ module: found.module, importedBy: found.importedBy, apis: found.apis, registrations: found.registrations }, importedServingWarning(found, modules, config.serviceName));
    }
    const selected = selectFeatures(registrations, features);
    this.selected = selected;
    await this.waitingForRedis(invoker.register(selected));
    if (registrations.hasStartHooks) {
      const outcome = await executor.runHooks('start');
      if (!outcome.ok) throw new Error(`an onStart hook failed: ${outcome.error.message}`);
    }
    this.running = true;
    logger.info(
      {
        workers: this.options.inline ? 0 : size,
        ...(this.options.inline ? { inline: true } : {}),
        apis: selected.apis.map((a) => a.name),
        listeners: selected.listeners.map((l) => l.name),
        tasks: selected.tasks.map((t) => t.name),
        startupMs: Date.now() - this.startedAt,
      },
      'lightbus is running',
    );
    return selected;
  }

  /** The files the modules loaded (the modules, and what they import outside node_modules), with `reloadable`. */
  get loadedFiles(): string[] {
    const loaded = this.executor instanceof ReloadingPool ? this.executor.loadedFiles : [];
    return [...new Set([...this.options.modules, ...loaded])];
  }

  /**
   * Loads the modules' code as it is now in new worker threads and serves it instead of the old
   * (`--watch`), keeping the invoker and its connections: see reloading-pool.ts. The invoker
   * takes what the new code registers differently; its onStart hooks run. When a module fails to
   * load, the old code keeps serving.
   */
  async reload(): Promise<ReloadOutcome> {
    if (!(this.executor instanceof ReloadingPool) || !this.invoker || !this.selected) throw new Error('reload() needs a started runner made with reloadable');
    const startedAt = Date.now();
    const loaded = await this.executor.reload();
    if (!loaded.ok) return loaded;
    const next = selectFeatures(loaded.registrations, this.options.features ?? ALL_FEATURES);
    const changes = registrationChanges(this.selected, next);
    this.registrations = loaded.registrations;
    this.selected = next;
    await this.invoker.update(changes);
    if (loaded.registrations.hasStartHooks) {
      const outcome = await this.executor.runHooks('start');
      if (!outcome.ok) this.options.log.logger.error({ err: outcome.error }, 'an onStart hook of the new code failed');
    }
    return { ok: true, changes, reloadMs: Date.now() - startedAt };
  }

  get phase(): Phase {
    if (this.stopping) return this.stoppedCode === undefined ? 'stopping' : 'stopped';
    return this.running ? 'running' : 'starting';
  }

  /** `/healthz`: Redis answers within `redisTimeoutMs` and no read loop ended unbidden (health.ts). */
  health(redisTimeoutMs: number): Promise<ProbeReport> {
    // A stop is bounded by its grace period: a probe failing meanwhile would only kill it sooner,
    // and a PING on closed transports would open a connection again.
    if (this.stopping) return Promise.resolve({ ok: true, checks: { stopping: true } });
    return checkHealth(this.invoker, redisTimeoutMs);
  }

  /** `/readyz`: started, not draining, a worker alive (health.ts). */
  readiness(): ProbeReport {
    return checkReadiness({ phase: this.phase, workers: this.executor?.workerCount ?? 0, inline: this.options.inline ?? false });
  }

  /** The levels metrics report (slots, events held, lag); undefined before the runtime exists. */
  levels(): RuntimeLevels | undefined {
    return this.invoker?.levels();
  }

  /**
   * Stops in order: stop reading and let in-flight handlers finish (within the grace period)
   * and be acknowledged; run onStop hooks; close connections; end the threads; flush logs.
   */
  stop(exitCode = 0): Promise<number> {
    this.resolveStopCalled();
    this.stopping ??= (async () => {
      const logger = this.options.log.logger;
      const grace = this.options.config.runner.shutdownGraceMs;
      const deadline = Date.now() + grace;
      logger.info({ graceMs: grace }, 'stopping: finishing the handlers in flight');
      try {
        await this.invoker?.drain(grace);
        // Only a pool whose workers loaded the modules can run hooks: after a failed start, a
        // hook would wait for a worker forever.
        if (this.registrations?.hasStopHooks) {
          const outcome = await this.executor!.runHooks('stop');
          if (!outcome.ok) exitCode ||= 1;
        }
        // Closing says goodbye to Redis (presence, queued writes); with Redis gone that would
        // wait for a reconnect forever, so it gets what is left of the grace period.
        const closeMs = Math.max(MIN_CLOSE_MS, deadline - Date.now());
        if (this.invoker && !(await settleWithin(this.invoker.close(0), closeMs))) {
          logger.warn({ redis: redactUrl(this.options.config.redis.url), waitedMs: closeMs }, 'Redis did not answer while closing; leaving without it');
        }
        await this.executor?.close(POOL_CLOSE_GRACE_MS);
        // With --inline the handlers ran here, and so did the SDK that buffers their spans.
        await flushSpans(SPAN_FLUSH_MS);
      } catch (error) {
        logger.error({ err: error }, 'error while stopping');
        exitCode ||= 1;
      }
      this.stoppedCode = exitCode;
      logger.info({ exitCode }, 'stopped');
      await this.options.log.flush();
      this.resolveStopped(exitCode);
      return exitCode;
    })();
    return this.stopping;
  }

  /**
   * A start-up step that needs Redis: says every few seconds that it is still waiting (with
   * the URL, its password hidden), and gives up as soon as {@link stop} is called, so that a
   * signal stops a runner that never reached Redis within the grace period.
   */
  private async waitingForRedis<T>(step: Promise<T>): Promise<T> {
    const url = redactUrl(this.options.config.redis.url);
    const notice = setInterval(() => {
      const waited = Math.round((Date.now() - this.startedAt) / 1000);
      this.options.log.logger.warn({ redis: url, waitedS: waited }, `still waiting for Redis at ${url} (${waited} s)`);
    }, REDIS_WAIT_NOTICE_MS);
    try {
      const outcome = await Promise.race([step.then((value) => ({ value })), this.stopCalled.then(() => undefined)]);
      if (!outcome) {
        step.catch(() => undefined); // abandoned: its failure, once the connections close, is nobody's business
        throw new StoppedWhileStarting();
      }
      return outcome.value;
    } finally {
      clearInterval(notice);
    }
  }
}

const NOT_RUN: Outcome = { ok: true, value: null };
const ALL_FEATURES: ReadonlySet<Feature> = new Set<Feature>(['rpcs', 'events', 'tasks']);

/** What this process runs of what the modules registered (`--only`/`--skip`). */
function selectFeatures(registrations: Registrations, features: ReadonlySet<Feature>): Registrations {
  return {
    ...registrations,
    apis: features.has('rpcs') ? registrations.apis : [],
    listeners: features.has('events') ? registrations.listeners : [],
    tasks: features.has('tasks') ? registrations.tasks : [],
  };
}

function notRunHere(command: ClientCommand, features: ReadonlySet<Feature>): boolean {
  return (command.type === 'serve' && !features.has('rpcs')) || (command.type === 'listen' && !features.has('events'));
}

/** A process that serves, listens to and schedules nothing was most likely given the wrong module. */
function warnIfNothingRegistered(registrations: Registrations, modules: string[], logger: RunOptions['log']['logger']): void {
  const { apis, listeners, tasks, hasStartHooks } = registrations;
  if (apis.length > 0 || listeners.length > 0 || tasks.length > 0 || hasStartHooks) return;
  logger.warn(
    { modules },
    `the modules given to lightbus run registered nothing (no APIs, listeners, tasks or onStart hooks), so this process will do nothing: ${modules.join(', ')}. Pass the module that calls bus.serve(), bus.listen() or bus.every() at its top level (a module that only defines APIs registers nothing), or import it from the one you pass`,
  );
}

/**
 * SIGINT/SIGTERM stop the runner gracefully; a second signal exits at once.
 * Returns a function that removes the handlers.
 */
export function stopOnSignals(runner: BusRunner, log: LogOutput): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      log.logger.info({ signal }, 'signal received; stopping gracefully (send it again to exit at once)');
      void runner.stop(0);
    } else {
      log.logger.warn({ signal }, 'second signal: exiting at once');
      void log.flush().finally(() => process.exit(130));
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
