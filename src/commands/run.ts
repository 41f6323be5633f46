import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { LightbusCommand } from '../cli/base-command.js';
import { ExitCode, exitCodesHelp } from '../cli/exit-codes.js';
import { ModuleLoadError } from '../errors.js';
import { createLogOutput } from '../logging/logger.js';
import type { MetricsServer } from '../metrics/index.js';
import { BusRunner, stopOnSignals, type Feature } from '../runtime/runner.js';
import { WATCH_DEBOUNCE_MS, WatchMode } from '../watch/watch-mode.js';

const FEATURES = ['rpcs', 'events', 'tasks'] as const;

export default class Run extends LightbusCommand<typeof Run> {
  static override summary = 'Serve the APIs, run the listeners and the scheduled tasks of your modules';
  static override description = `Loads the given TypeScript or JavaScript modules (no build step) in a pool of worker threads, then serves every API they provide, runs every listener they register and every task they schedule, until stopped.

The main thread owns the Redis connections and never runs your code; handlers run in the workers. With --inline there are no worker threads: the modules load and the handlers run in the main thread, for debugging (breakpoints, one stack) and single-core containers; a handler stuck in synchronous code then stalls the whole process, and no hard deadline or thread replacement applies. SIGINT or SIGTERM stops gracefully: reading stops, handlers in flight finish within runner.shutdownGraceMs, their events are acknowledged, then the process exits 0. A second signal exits at once.

With --watch (development), a change to a module or to a file it imports (outside node_modules) reloads the modules without restarting the process: new worker threads load the new code while the old ones keep serving, then take all new work; the old threads finish what they hold (no call or event in flight is lost) and end. APIs, listeners and tasks the new code adds, changes or drops are served, restarted or stopped, and changed schemas republished. A file that fails to load (a syntax error, an error at import) is reported with its file and line, and the old code keeps serving until it is fixed. Saves within ${WATCH_DEBOUNCE_MS} ms of each other make one reload. Not with --inline: a reload needs fresh threads, as a module imported in the main thread cannot be loaded again there.

With --metrics-port (or metrics.port), one HTTP server on metrics.host (default 127.0.0.1) serves Prometheus /metrics, /healthz (200 while Redis answers a PING within metrics.redisTimeoutMs and no read loop died) and /readyz (200 once started, 503 while starting or draining after a signal); docs/observability.md lists the figures.

${exitCodesHelp(['ok', 'failed', 'usage', 'notFound', 'unavailable'], {
  ok: 'stopped by a signal',
  failed: "a module failed to load, or a listener with onError 'shutdown' failed",
  notFound: 'a module file does not exist',
  unavailable: 'the config is invalid (with Redis unreachable, run waits for it and says so)',
})}`;
  static override examples = [
    '<%= config.bin %> run ./bus.ts',
    '<%= config.bin %> run ./auth.ts ./billing.ts --workers 4',
    '<%= config.bin %> run ./bus.ts --only rpcs --log-level debug',
    '<%= config.bin %> run ./bus.ts --inline',
    '<%= config.bin %> run ./bus.ts --watch --workers 1',
    '<%= config.bin %> run ./bus.ts --metrics-port 9464',
    'LIGHTBUS_REDIS_URL=redis://redis.internal:6379/0 <%= config.bin %> run ./bus.ts',
  ];
  static override strict = false;
  static override args = {
    modules: Args.string({ description: 'Modules that define and serve your APIs and listeners (one or more)', required: true }),
  };
  static override flags = {
    workers: Flags.integer({ char: 'w', min: 1, max: 256, description: 'Worker threads (default: runner.workers, else available parallelism)', exclusive: ['inline'] }),
    inline: Flags.boolean({ description: 'Run the handlers in the main thread, with no worker threads (debugging, single-core containers)', default: false, exclusive: ['workers'] }),
    only: Flags.string({ description: 'Run only these, comma-separated: rpcs,events,tasks', exclusive: ['skip'] }),
    watch: Flags.boolean({ description: 'Reload the modules in new worker threads when a file they loaded changes (development; not with --inline)', default: false }),
    skip: Flags.string({ description: 'Run all but these, comma-separated: rpcs,events,tasks', exclusive: ['only'] }),
    'metrics-port': Flags.integer({
      min: 0,
      max: 65535,
      description: 'Serve Prometheus /metrics, /healthz and /readyz over HTTP on this port (0: any free port; the address is metrics.host, default 127.0.0.1; default: metrics.port, else no server)',
    }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Run);
    const modules = (argv as string[]).map((m) => resolve(m));
    for (const path of modules) if (!existsSync(path)) this.error(`module not found: ${path}`, { exit: ExitCode.notFound });
    if (this.flags.watch && this.flags.inline) {
      this.error(
        '--watch cannot be used with --inline: a reload loads the new code in fresh worker threads, and a module imported in the main thread cannot be loaded again there. Drop --inline (--workers 1 runs one thread), or drop --watch and restart by hand',
        { exit: ExitCode.usage },
      );
    }
    const features = this.features();
    const config = await this.loadConfig({
      ...(this.flags.workers !== undefined ? { workers: this.flags.workers } : {}),
      ...(this.flags['metrics-port'] !== undefined ? { metricsPort: this.flags['metrics-port'] } : {}),
    });
    // No Redis check up front: a service may start before its Redis (a deploy, a restart), so the
    // runner waits, saying so every few seconds, and a signal still stops it within the grace.
    const log = createLogOutput({ level: config.logLevel, base: { service: config.serviceName, process: config.processName } });
    // prom-client is loaded only when asked for: a run without metrics pays nothing for them.
    const metricsModule = config.metrics.port !== undefined ? await import('../metrics/index.js') : undefined;
    const metrics = metricsModule ? new metricsModule.PrometheusMetrics() : undefined;
    const runner = new BusRunner({
      modules,
      config,
      log,
      features,
      inline: this.flags.inline,
      ...(this.flags.workers ? { workers: this.flags.workers } : {}),
      ...(this.flags.watch ? { reloadable: true } : {}),
      ...(metrics ? { observer: metrics } : {}),
    });
    const removeSignalHandlers = stopOnSignals(runner, log);
    let metricsServer: MetricsServer | undefined;
    try {
      // Up before the start, so probes see a process that is starting (not ready) rather than none.
      if (metricsModule && metrics) metricsServer = await metricsModule.serveRunnerMetrics(runner, metrics, config, log.logger);
      await runner.start();
    } catch (error) {
      removeSignalHandlers();
      // Stopped while starting (a signal): the start failing is the stop's doing, not an error.
      if (runner.stopRequested) this.exit(await runner.stopped);
      // A module's failure is the message below, on stderr; logging it too would print it twice.
      if (error instanceof ModuleLoadError) log.logger.fatal({ module: error.modulePath }, 'could not start: a module failed to load');
      else log.logger.fatal({ err: error }, 'could not start');
      await runner.stop(1);
      await metricsServer?.close();
      await log.flush();
      const message = error instanceof ModuleLoadError ? error.message : `could not start: ${(error as Error).message}`;
      this.error(message, { exit: 1 });
    }
    const watching = this.flags.watch ? new WatchMode(runner, log.logger) : undefined;
    await watching?.start();
    const code = await runner.stopped;
    await watching?.close();
    await metricsServer?.close();
    removeSignalHandlers();
    this.exit(code);
  }

  private features(): ReadonlySet<Feature> | undefined {
    const parse = (value: string, flag: string): Feature[] =>
      value.split(',').map((part) => {
        const name = part.trim();
        if (!(FEATURES as readonly string[]).includes(name)) this.error(`--${flag}: "${name}" is not one of ${FEATURES.join(', ')}`, { exit: 2 });
        return name as Feature;
      });
    if (this.flags.only) return new Set(parse(this.flags.only, 'only'));
    if (this.flags.skip) {
      const skipped = new Set(parse(this.flags.skip, 'skip'));
      return new Set(FEATURES.filter((f) => !skipped.has(f)));
    }
    return undefined;
  }
}
