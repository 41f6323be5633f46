/**
 * `lightbus run` as a plain module: builds the transports, the invoker and the worker pool,
 * starts them in order, and stops them in order on a signal. Commands flow one way (worker ->
 * invoker -> Redis); nothing here hands a client object around to signal shutdown: a fatal
 * condition calls {@link BusRunner.stop} with an exit code.
 */
import { availableParallelism } from 'node:os';
import type { ResolvedConfig } from '../config/schema.js';
import type { LogOutput } from '../logging/logger.js';
import { createTransports } from '../transport/index.js';
import { Invoker } from './invoker.js';
import { WorkerPool } from './pool.js';
import type { Registrations } from './protocol.js';
import { importedServingWarning } from '../util/module-origins.js';

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
}

const DEFAULT_CONCURRENCY_PER_WORKER = 32;
const POOL_CLOSE_GRACE_MS = 2000;

export class BusRunner {
  private invoker: Invoker | undefined;
  private pool: WorkerPool | undefined;
  /** What the modules registered; unset until every worker loaded them. */
  private registrations: Registrations | undefined;
  private stopping: Promise<number> | undefined;
  private startedAt = 0;
  /** Resolves with the exit code once the runner stopped, whatever stopped it. */
  readonly stopped: Promise<number>;
  private resolveStopped!: (code: number) => void;

  constructor(private readonly options: RunOptions) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
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
    const transports = createTransports(config, logger);
    let invoker!: Invoker;
    const pool = new WorkerPool({
      size,
      modules,
      config,
      logger,
      writeLog: (line) => log.write(line),
      // Commands from workers are taken even before every worker is ready: a call made at
      // import time waits in Redis until a worker serves it, it never fails as "not ready".
      onCommand: (command) => invoker.handle(command),
      concurrencyPerWorker: config.runner.concurrency ?? DEFAULT_CONCURRENCY_PER_WORKER,
      ...(config.runner.workerMemoryLimitMb ? { memoryLimitMb: config.runner.workerMemoryLimitMb } : {}),
      onFatal: (error) => {
        logger.fatal({ err: error }, 'cannot go on; stopping');
        void this.stop(1);
      },
    });
    invoker = new Invoker({
      config,
      transports,
      executor: pool,
      logger,
      onShutdownRequested: () => void this.stop(1),
      onRemoteSchemas: (schemas) => pool.setSchemas(schemas),
    });
    this.invoker = invoker;
    this.pool = pool;
    let registrations: Registrations;
    try {
      await invoker.start();
      registrations = await pool.start();
      this.registrations = registrations;
    } catch (error) {
      await invoker.close(0);
      throw error;
    }
    for (const found of registrations.importedServing ?? []) {
      logger.warn({ module: found.module, importedBy: found.importedBy, apis: found.apis, registrations: found.registrations }, importedServingWarning(found, modules, config.serviceName));
    }
    const features = this.options.features ?? new Set<Feature>(['rpcs', 'events', 'tasks']);
    const selected: Registrations = {
      ...registrations,
      apis: features.has('rpcs') ? registrations.apis : [],
      listeners: features.has('events') ? registrations.listeners : [],
      tasks: features.has('tasks') ? registrations.tasks : [],
    };
    await invoker.register(selected);
    if (registrations.hasStartHooks) {
      const outcome = await pool.runHooks('start');
      if (!outcome.ok) throw new Error(`an onStart hook failed: ${outcome.error.message}`);
    }
    logger.info(
      {
        workers: size,
        apis: selected.apis.map((a) => a.name),
        listeners: selected.listeners.map((l) => l.name),
        tasks: selected.tasks.map((t) => t.name),
        startupMs: Date.now() - this.startedAt,
      },
      'lightbus is running',
    );
    return selected;
  }

  /**
   * Stops in order: stop reading and let in-flight handlers finish (within the grace period)
   * and be acknowledged; run onStop hooks; close connections; end the threads; flush logs.
   */
  stop(exitCode = 0): Promise<number> {
    this.stopping ??= (async () => {
      const logger = this.options.log.logger;
      const grace = this.options.config.runner.shutdownGraceMs;
      logger.info({ graceMs: grace }, 'stopping: finishing the handlers in flight');
      try {
        await this.invoker?.drain(grace);
        // Only a pool whose workers loaded the modules can run hooks: after a failed start, a
        // hook would wait for a worker forever.
        if (this.registrations?.hasStopHooks) {
          const outcome = await this.pool!.runHooks('stop');
          if (!outcome.ok) exitCode ||= 1;
        }
        await this.invoker?.close(0);
        await this.pool?.close(POOL_CLOSE_GRACE_MS);
      } catch (error) {
        logger.error({ err: error }, 'error while stopping');
        exitCode ||= 1;
      }
      logger.info({ exitCode }, 'stopped');
      await this.options.log.flush();
      this.resolveStopped(exitCode);
      return exitCode;
    })();
    return this.stopping;
  }
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
