/**
 * `lightbus run --inline`: the user's modules load, and their handlers run, in the invoker's
 * own thread (debugging with breakpoints, single-core containers). The modules' `createBus()`
 * gets the same backend a worker thread installs (worker-backend.ts), whose commands go
 * straight to the invoker instead of through a port, and handlers run through an
 * {@link InlineExecutor}: to the invoker this is one more executor.
 *
 * What threads give and this does not: a handler stuck in synchronous code stalls everything
 * (no hard deadline, no replacement), and a crash ends the process.
 */
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import type { ResolvedConfig } from '../config/schema.js';
import { deserializeError, ModuleLoadError, serializeError } from '../errors.js';
import { InlineExecutor, type ModuleExecutor } from './executor.js';
import { CommandForwarder, type CommandHandler } from './command-forwarder.js';
import { HandlerRunner } from './handler-runner.js';
import { loadUserModules } from './load-modules.js';
import type { ClientCommand, Outcome, Registrations, ToInvoker } from './protocol.js';
import { kWorkerBackend, WorkerBackend } from './worker-backend.js';

export interface InlineModulesOptions {
  modules: string[];
  config: ResolvedConfig;
  logger: Logger;
  /** The invoker's entry for the modules' commands. */
  onCommand: CommandHandler;
  /** RPC executions at once. */
  concurrency: number;
}

export class InlineModuleExecutor extends InlineExecutor implements ModuleExecutor {
  private readonly backend: WorkerBackend;
  private readonly options: InlineModulesOptions;
  private readonly commands: CommandForwarder;

  constructor(options: InlineModulesOptions) {
    // The backend's commands go to this executor's invoker entry, which exists once super() ran.
    let self: InlineModuleExecutor | undefined;
    const backend = new WorkerBackend((message) => self!.forward(message), options.config, options.logger);
    super(new HandlerRunner(backend.registry, backend.validator, options.config, options.logger), options.concurrency);
    self = this;
    this.backend = backend;
    this.options = options;
    this.commands = new CommandForwarder(options.onCommand, (requestId, outcome) => backend.settle({ type: 'reply', requestId, outcome }));
  }

  /** Installs the backend for the modules' `createBus()` and imports them here. */
  async start(): Promise<Registrations> {
    (globalThis as Record<symbol, unknown>)[kWorkerBackend] = this.backend;
    const loaded = await loadUserModules(this.options.modules, this.backend.registry);
    if (loaded.ok) return loaded.registrations;
    const error = loaded.error instanceof Error ? loaded.error : deserializeError(serializeError(loaded.error));
    // The same message as a worker's failure: the user's error is the cause, said once with the path.
    throw new ModuleLoadError(`could not load ${loaded.modulePath}: ${error.name}: ${error.message}`, loaded.modulePath, { cause: error });
  }

  setSchemas(schemas: Record<string, ApiSchema>): void {
    this.backend.registry.setRemoteSchemas(schemas);
  }

  override async close(): Promise<void> {
    const global = globalThis as Record<symbol, unknown>;
    if (global[kWorkerBackend] === this.backend) delete global[kWorkerBackend];
  }

  /** A command of the modules' bus: to the invoker, its answer back as a worker's port would bring it. */
  private forward(message: ToInvoker): void {
    this.commands.forward(message as ClientCommand);
  }
}
