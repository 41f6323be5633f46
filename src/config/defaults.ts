/**
 * Built-in defaults, and the default service and process names.
 *
 * The service name names the consumer groups that receive events. Python Lightbus defaults
 * it to a random name, so a restarted service joins a brand-new group and never sees what
 * arrived while it was down. Here the default is derived from the project (package name, else
 * directory name) and is the same on every start.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ResolvedConfig } from './schema.js';

/** Every default of {@link ResolvedConfig} except the names, which depend on where we run. */
export const CONFIG_DEFAULTS = {
  transport: 'redis',
  logLevel: 'info',
  redis: { url: 'redis://127.0.0.1:6379/0' },
  events: {
    // Python's default is 10; 100 costs a round trip, an XACK and a worker hop per 100 events
    // instead of per 10 (docs/configuration.md says why and what it changes).
    batchSize: 100,
    acknowledgementTimeoutMs: 60_000,
    maxStreamLength: 100_000,
    streamUse: 'per_api',
    deadLetterStream: 'lightbus:dead_letter:stream',
  },
  rpc: { resultTtlMs: 60_000 },
  schema: { ttlMs: 60_000 },
  runner: { shutdownGraceMs: 10_000, maxCrashRedeliveries: 3 },
  metrics: { host: '127.0.0.1', redisTimeoutMs: 1000 },
} as const satisfies Omit<ResolvedConfig, 'serviceName' | 'processName' | 'apis' | 'source'>;

/** Directories walked up from the start directory before giving up on a package.json. */
const MAX_PARENT_DIRS = 64;

/** Replaces every character outside `[A-Za-z0-9_.-]` with `_`: names end up in Redis keys. */
export function sanitizeName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_.-]+/g, '_');
}

/**
 * The default service name: the `name` of the nearest package.json (from `cwd` upwards)
 * that has one, without its npm scope (`@acme/billing` gives `billing`); else the name of
 * `cwd`; sanitised by {@link sanitizeName}.
 */
export function defaultServiceName(cwd: string): string {
  const fromPackage = nearestPackageName(cwd);
  const raw = fromPackage ?? basename(cwd);
  const name = sanitizeName(raw.replace(/^@[^/]+\//, ''));
  return name.replace(/_/g, '') === '' ? 'lightbus' : name;
}

/**
 * The default process name, `{hostname}-{pid}`: unique, but new after a restart, so events
 * a crashed process left pending are only taken over after `acknowledgementTimeoutMs`. A
 * stable name (the pod name) lets the restarted process reclaim them at once.
 */
export function defaultProcessName(): string {
  return sanitizeName(`${hostname()}-${process.pid}`);
}

function nearestPackageName(start: string): string | undefined {
  let dir = start;
  for (let i = 0; i < MAX_PARENT_DIRS; i++) {
    const name = packageName(join(dir, 'package.json'));
    if (name) return name;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

/** The `name` of a package.json; undefined when the file is missing, unreadable or nameless. */
function packageName(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const name = (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === 'string' && name.trim() !== '' ? name.trim() : undefined;
  } catch {
    // A broken package.json is not ours to report; the directory name will do.
    return undefined;
  }
}
