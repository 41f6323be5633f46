/**
 * Building the {@link ResolvedConfig}: flags over environment over file over defaults. Every
 * source is validated before anything is merged, and all problems are reported together, so
 * one run shows everything that needs fixing.
 */
import { isAbsolute, relative } from 'node:path';
import { ConfigError } from '../errors.js';
import { CONFIG_DEFAULTS, defaultProcessName, defaultServiceName } from './defaults.js';
import { ENV_VARS, environmentOverlay, flagsOverlay, type ConfigFlags } from './env.js';
import { findConfigFile, readConfigFile, type ConfigFile } from './file.js';
import type { LightbusConfigInput, ResolvedConfig } from './schema.js';
import { tlsFileProblems } from './tls-files.js';
import { findConfigProblems } from './validate.js';

export interface LoadConfigOptions {
  /** The config file to use instead of searching (the CLI's `--config`). Relative to `cwd`. */
  configPath?: string;
  /** Where the search for a config file starts and the default service name comes from. */
  cwd?: string;
  /** Command-line overrides; they win over everything. */
  flags?: ConfigFlags;
  /** The environment to read `LIGHTBUS_*` variables from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** A config object to use instead of any file; no file is searched or read. */
  inline?: LightbusConfigInput;
}

export interface ResolveConfigOptions {
  /** The file `input` came from, for messages and {@link ResolvedConfig.source}. */
  source?: string;
  /** The environment to read `LIGHTBUS_*` variables from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  flags?: ConfigFlags;
  /** Where the default service name is looked up (default `process.cwd()`). */
  cwd?: string;
}

/**
 * Finds, reads and resolves the configuration. The file is `configPath`, else the file named
 * by `LIGHTBUS_CONFIG`, else the nearest `lightbus.config.*` or `.lightbusrc*` from `cwd` up;
 * with none, defaults (and environment and flags) alone make the config.
 *
 * @throws ConfigError naming the file, the key and the problem, one line per problem.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let file: ConfigFile | undefined;
  if (options.inline === undefined) {
    const envPath = env[ENV_VARS.config] || undefined;
    if (options.configPath !== undefined) file = await readConfigFile(options.configPath, cwd, '--config');
    else if (envPath !== undefined) file = await readConfigFile(envPath, cwd, ENV_VARS.config);
    else file = await findConfigFile(cwd);
  }
  return resolveConfig(options.inline ?? file?.contents, { source: file?.path, env, flags: options.flags ?? {}, cwd });
}

/**
 * Validates a config object and fills in environment, flags and defaults, without reading a
 * config file (the one file read is the package.json that names the default service).
 * `undefined` input means an empty config.
 *
 * @throws ConfigError naming the source, the key and the problem, one line per problem.
 */
export function resolveConfig(input: unknown, options: ResolveConfigOptions = {}): ResolvedConfig {
  const cwd = options.cwd ?? process.cwd();
  const fileValues = input ?? {};
  const environment = environmentOverlay(options.env ?? process.env);
  const flags = flagsOverlay(options.flags ?? {});

  const fileLabel = options.source ? displayPath(options.source, cwd) : 'config';
  const fileProblems = findConfigProblems(fileValues);
  // The TLS files a config file names are checked with it, so the error names that file; an
  // inline config's are checked when connecting. Only in a valid config: its shape is known.
  if (options.source && fileProblems.length === 0) fileProblems.push(...tlsFileProblems((fileValues as LightbusConfigInput).redis?.tls, cwd));
  const problems = [
    ...fileProblems.map((p) => ({ ...p, line: `${fileLabel}: ${p.text}` })),
    ...[environment, flags].flatMap((overlay) =>
      findConfigProblems(overlay.values, overlay.keyName).map((p) => ({ ...p, line: `${overlay.label}: ${p.text}` })),
    ),
  ];
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => p.line).join('\n'), options.source, problems[0]!.keyPath);
  }

  const file = fileValues as LightbusConfigInput;
  const fromEnv = environment.values as LightbusConfigInput;
  const fromFlags = flags.values as LightbusConfigInput;
  const tls = file.redis?.tls;
  return {
    serviceName: fromFlags.serviceName ?? fromEnv.serviceName ?? file.serviceName ?? defaultServiceName(cwd),
    processName: fromFlags.processName ?? fromEnv.processName ?? file.processName ?? defaultProcessName(),
    transport: file.transport ?? CONFIG_DEFAULTS.transport,
    // Validated above against the list of levels; the schema's static type only says string.
    logLevel: (fromFlags.logLevel ?? fromEnv.logLevel ?? file.logLevel ?? CONFIG_DEFAULTS.logLevel) as ResolvedConfig['logLevel'],
    redis: {
      url: fromFlags.redis?.url ?? fromEnv.redis?.url ?? file.redis?.url ?? CONFIG_DEFAULTS.redis.url,
      ...(tls ? { tls: { ...tls } } : {}),
      ...(file.redis?.cluster ? { cluster: structuredClone(file.redis.cluster) } : {}),
      ...(file.redis?.sentinel ? { sentinel: structuredClone(file.redis.sentinel) } : {}),
      ...(file.redis?.keys ? { keys: file.redis.keys } : {}),
    },
    events: { ...CONFIG_DEFAULTS.events, ...definedOnly(file.events) },
    rpc: { ...CONFIG_DEFAULTS.rpc, ...definedOnly(file.rpc) },
    schema: { ...CONFIG_DEFAULTS.schema, ...definedOnly(file.schema) },
    apis: structuredClone(file.apis ?? {}),
    runner: { ...CONFIG_DEFAULTS.runner, ...definedOnly(file.runner), ...definedOnly(fromFlags.runner) },
    metrics: { ...CONFIG_DEFAULTS.metrics, ...definedOnly(file.metrics), ...definedOnly(fromFlags.metrics) },
    ...(file.dashboard ? { dashboard: { ...definedOnly(file.dashboard) } } : {}),
    ...(options.source ? { source: options.source } : {}),
  };
}

/** A copy without the keys set to `undefined`, so they do not hide defaults when spread. */
function definedOnly<T extends object>(values: T | undefined): Partial<T> {
  if (!values) return {};
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The file as the user knows it: relative to the working directory when inside it. */
function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
