/**
 * The backend of a bus in a plain process (a script, a web server, a test): the invoker and
 * its transports live in this thread, and handlers run inline. Config loading and connecting
 * start at once and every operation waits for them, so nothing fails for not being ready.
 */
import pino, { type Logger } from 'pino';
import type { LightbusConfigInput, ResolvedConfig } from '../config/schema.js';
import { deserializeError } from '../errors.js';
import { InlineExecutor } from '../runtime/executor.js';
import { HandlerRunner } from '../runtime/handler-runner.js';
import type { Invoker } from '../runtime/invoker.js';
import type { Outcome } from '../runtime/protocol.js';
import { Registry } from '../runtime/registry.js';
import { SchemaValidator } from '../core/validator.js';
import type { MemoryStore } from '../transport/memory/store.js';
import type { BusBackend, CommandRequest } from '../runtime/bus-backend.js';

export interface ProcessBusOptions {
  /** A config object; when given, no config file is read. */
  config?: LightbusConfigInput;
  /** A config already resolved by `loadConfig()`, used as it is (tools that loaded it themselves). */
  resolvedConfig?: ResolvedConfig;
  /** A config file to read instead of searching for one. */
  configPath?: string;
  /** Defaults to JSON lines on stdout at the config's `logLevel`. */
  logger?: Logger;
  /** RPC executions at once in this process (default 64). */
  concurrency?: number;
  /**
   * With `transport: 'memory'`: the store standing for the Redis server. Buses given the same
   * store see each other as processes sharing a Redis would.
   */
  memoryStore?: MemoryStore;
}

interface Started {
  config: ResolvedConfig;
  invoker: Invoker;
}

export class ProcessBackend implements BusBackend {
  readonly kind = 'process' as const;
  readonly registry = new Registry();
  readonly validator = new SchemaValidator();
  private readonly started: Promise<Started>;
  private startedValue: Started | undefined;
  private startHooksRun = 0;
  private tasksRegistered = 0;
  private closing: Promise<void> | undefined;
  private ownLogger: Logger | undefined;

  constructor(private readonly options: ProcessBusOptions = {}) {
    this.started = this.start();
    void this.started.then((value) => (this.startedValue = value), () => undefined);
    // Failures surface on the first operation; an unused bus must not crash the process.
    this.started.catch(() => undefined);
  }

  get logger(): Logger {
    return this.options.logger ?? (this.ownLogger ??= pino({ level: 'info' }, pino.destination({ dest: 1, sync: true })));
  }

  async config(): Promise<ResolvedConfig> {
    return (await this.started).config;
  }

  request(command: CommandRequest, signal?: AbortSignal): Promise<unknown> {
    // Calls and fires go straight to the invoker once it runs: they are the hot paths, and no
    // thread lies between (no async frame, no outcome round trip).
    if (this.startedValue && command.type === 'fire') return this.startedValue.invoker.fire(command);
    if (this.startedValue && command.type === 'call') return this.startedValue.invoker.call(command, signal).then(valueOrThrow);
    return this.started.then(({ invoker }) => invoker.handle({ ...command, requestId: 0 } as Parameters<Invoker['handle']>[0], signal)).then(valueOrThrow);
  }

  registered(): void {
    void this.started.then(({ invoker }) => this.catchUp(invoker)).catch(() => undefined);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      let started: Started;
      try {
        started = await this.started;
      } catch {
        return;
      }
      await new InlineExecutor(this.runner(started.config)).runHooks('stop');
      await started.invoker.close();
    })();
    return this.closing;
  }

  private async start(): Promise<Started> {
    // Loaded here, not at the top: a worker thread of `lightbus run` imports this module through
    // `createBus` but never builds a process bus, and need not carry Redis clients or config loaders.
    const [{ loadConfig, resolveConfig }, { buildRuntime }] = await Promise.all([import('../config/load.js'), import('../runtime/build-runtime.js')]);
    const config =
      this.options.resolvedConfig ??
      (this.options.config
        ? resolveConfig(this.options.config)
        : await loadConfig(this.options.configPath !== undefined ? { configPath: this.options.configPath } : {}));
    if (!this.options.logger) this.logger.level = config.logLevel;
    const logger = this.logger.child({ service: config.serviceName, process: config.processName });
    const { invoker } = buildRuntime({
      config,
      logger,
      memoryStore: this.options.memoryStore,
      // This bus's own calls and fires reach the invoker directly (request()), not through the executor.
      executor: () => new InlineExecutor(this.runner(config), this.options.concurrency ?? 64),
      onRemoteSchemas: (schemas) => this.registry.setRemoteSchemas(schemas),
      onShutdownRequested: (reason) => {
        logger.fatal({ err: reason }, 'a listener asked for shutdown; closing the bus');
        process.exitCode = 1;
        void this.close();
      },
    });
    await invoker.start();
    return { config, invoker };
  }

  private runner(config: ResolvedConfig): HandlerRunner {
    return new HandlerRunner(this.registry, this.validator, config, this.logger);
  }

  /** Tasks and start hooks registered since the last call: run them now that the invoker exists. */
  private async catchUp(invoker: Invoker): Promise<void> {
    const tasks = [...this.registry.tasks.values()].slice(this.tasksRegistered).map((t) => t.descriptor);
    this.tasksRegistered += tasks.length;
    if (tasks.length > 0) await invoker.register({ apis: [], listeners: [], tasks, hasStartHooks: false, hasStopHooks: false });
    const hooks = this.registry.startHooks.slice(this.startHooksRun);
    this.startHooksRun += hooks.length;
    for (const hook of hooks) {
      try {
        await hook();
      } catch (error) {
        this.logger.error({ err: error }, 'onStart hook failed');
      }
    }
  }
}

function valueOrThrow(outcome: Outcome): unknown {
  if (outcome.ok) return outcome.value;
  throw deserializeError(outcome.error);
}
