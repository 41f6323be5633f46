/**
 * What every lightbus command shares: the config flags, loading the config (flags over
 * environment over file over defaults), and turning errors into one-line messages with the
 * exit code of the one table (./exit-codes.ts).
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/schema.js';
import pino from 'pino';
import { ConfigError } from '../errors.js';
import { checkReachable } from '../inspect/connection.js';
import { exitCodeFor } from './exit-codes.js';

export abstract class LightbusCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    config: Flags.string({
      char: 'c',
      description: 'Config file (default: lightbus.config.{ts,js,json,yaml} or .lightbusrc found from the current directory up; env LIGHTBUS_CONFIG)',
      helpGroup: 'CONFIG',
    }),
    'service-name': Flags.string({ description: 'Service name: names consumer groups (env LIGHTBUS_SERVICE_NAME)', helpGroup: 'CONFIG' }),
    'process-name': Flags.string({ description: 'Process name: the consumer name (env LIGHTBUS_PROCESS_NAME)', helpGroup: 'CONFIG' }),
    'redis-url': Flags.string({ description: 'Redis URL, e.g. redis://:password@127.0.0.1:6379/0 (env LIGHTBUS_REDIS_URL)', helpGroup: 'CONFIG' }),
    'log-level': Flags.option({
      options: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const,
      description: 'Log level (env LIGHTBUS_LOG_LEVEL)',
      helpGroup: 'CONFIG',
    })(),
  };

  protected flags!: Interfaces.InferredFlags<(typeof LightbusCommand)['baseFlags'] & T['flags']>;
  protected args!: Interfaces.InferredArgs<T['args']>;

  override async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof LightbusCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as typeof this.flags;
    this.args = args as typeof this.args;
  }

  protected async loadConfig(extra: { workers?: number; metricsPort?: number } = {}): Promise<ResolvedConfig> {
    const f = this.flags as Record<string, unknown>;
    try {
      return await loadConfig({
        ...(f['config'] ? { configPath: f['config'] as string } : {}),
        flags: {
          ...(f['service-name'] ? { serviceName: f['service-name'] as string } : {}),
          ...(f['process-name'] ? { processName: f['process-name'] as string } : {}),
          ...(f['redis-url'] ? { redisUrl: f['redis-url'] as string } : {}),
          ...(f['log-level'] ? { logLevel: f['log-level'] as string } : {}),
          ...(extra.workers !== undefined ? { workers: extra.workers } : {}),
          ...(extra.metricsPort !== undefined ? { metricsPort: extra.metricsPort } : {}),
        },
      });
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError((error as Error).message);
    }
  }

  /** Fails with {@link ExitCode.unavailable} now, rather than wait for a Redis that is not there. */
  protected async requireRedis(config: ResolvedConfig, timeoutMs?: number): Promise<void> {
    if (config.transport === 'memory') return;
    await checkReachable(config.redis, pino({ level: 'silent' }), timeoutMs);
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if ((error as { oclif?: unknown }).oclif) return super.catch(error);
    this.logToStderr(`Error: ${error.message}`);
    return this.exit(exitCodeFor(error));
  }
}
