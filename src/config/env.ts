/**
 * The environment variables and command-line flags that override the config file, each turned
 * into a partial config (an "overlay") so it is validated by the same schema as a file, and
 * each key mapped back to the variable or flag it came from for error messages.
 */

/** The environment variables lightbus reads. */
export const ENV_VARS = {
  config: 'LIGHTBUS_CONFIG',
  serviceName: 'LIGHTBUS_SERVICE_NAME',
  processName: 'LIGHTBUS_PROCESS_NAME',
  redisUrl: 'LIGHTBUS_REDIS_URL',
  logLevel: 'LIGHTBUS_LOG_LEVEL',
} as const;

/** Overrides given on the command line; they win over everything else. */
export interface ConfigFlags {
  serviceName?: string;
  processName?: string;
  redisUrl?: string;
  logLevel?: string;
  workers?: number;
  metricsPort?: number;
}

/** A partial config taken from one source, with the name of each key in that source. */
export interface ConfigOverlay {
  /** Where the values came from, for messages: `environment`, `command line`. */
  label: string;
  /** The values in the shape of a config file. */
  values: Record<string, unknown>;
  /** The source's own name of a config key path (`redis.url` → `LIGHTBUS_REDIS_URL`). */
  keyName: (keyPath: string) => string;
}

/** Config key path → where the value sits in a config object. */
const OVERLAY_KEYS = {
  serviceName: ['serviceName'],
  processName: ['processName'],
  redisUrl: ['redis', 'url'],
  logLevel: ['logLevel'],
  workers: ['runner', 'workers'],
  metricsPort: ['metrics', 'port'],
} as const;

const FLAG_NAMES: Record<keyof typeof OVERLAY_KEYS, string> = {
  serviceName: '--service-name',
  processName: '--process-name',
  redisUrl: '--redis-url',
  logLevel: '--log-level',
  workers: '--workers',
  metricsPort: '--metrics-port',
};

/** The overrides found in `env`. An empty variable counts as unset. */
export function environmentOverlay(env: NodeJS.ProcessEnv): ConfigOverlay {
  const given: Partial<Record<keyof typeof OVERLAY_KEYS, unknown>> = {};
  const names: Record<string, string> = {};
  for (const key of ['serviceName', 'processName', 'redisUrl', 'logLevel'] as const) {
    const value = env[ENV_VARS[key]];
    if (value !== undefined && value !== '') given[key] = value;
    names[OVERLAY_KEYS[key].join('.')] = ENV_VARS[key];
  }
  return { label: 'environment', values: overlayValues(given), keyName: (path) => names[path] ?? path };
}

/** The overrides given as command-line flags. Undefined flags are not overrides. */
export function flagsOverlay(flags: ConfigFlags): ConfigOverlay {
  const given: Partial<Record<keyof typeof OVERLAY_KEYS, unknown>> = {};
  const names: Record<string, string> = {};
  for (const key of Object.keys(OVERLAY_KEYS) as (keyof typeof OVERLAY_KEYS)[]) {
    if (flags[key] !== undefined) given[key] = flags[key];
    names[OVERLAY_KEYS[key].join('.')] = FLAG_NAMES[key];
  }
  return { label: 'command line', values: overlayValues(given), keyName: (path) => names[path] ?? path };
}

function overlayValues(given: Partial<Record<keyof typeof OVERLAY_KEYS, unknown>>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given) as [keyof typeof OVERLAY_KEYS, unknown][]) {
    const path = OVERLAY_KEYS[key];
    if (path.length === 1) {
      values[path[0]] = value;
    } else {
      const [section, field] = path;
      const nested = (values[section] ??= {}) as Record<string, unknown>;
      nested[field] = value;
    }
  }
  return values;
}
