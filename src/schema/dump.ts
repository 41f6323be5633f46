/**
 * Collecting API schemas for `lightbus dumpschema` and `lightbus codegen`, and writing them
 * out. Schemas come from the bus (what running processes published, Python ones included)
 * and "locally": from modules given on the command line, imported in a registrations-only
 * worker thread (runtime/read-registrations.ts), so their exported and served APIs are read
 * without serving anything. Where both have an API, the local definition wins, as in Python
 * Lightbus.
 *
 * Files use Python Lightbus's layout, so either side can read the other's dumps: one JSON
 * document `{ "<api>": { "rpcs": ..., "events": ... } }`, or in a directory one `<api>.json`
 * per API holding the same document with that one API.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import type { ApiSchema } from '../api/define.js';
import type { ResolvedConfig } from '../config/schema.js';
import { redactUrl } from '../core/redact-url.js';
import { LightbusError } from '../errors.js';
import { readModuleRegistrations } from '../runtime/read-registrations.js';
import { RedisSchemaTransport } from '../transport/redis/schema-transport.js';
import { withTimeout } from '../util/timeouts.js';

/** API name -> `{ rpcs, events }`, as on the wire. */
export type SchemaSet = Record<string, unknown>;

/** Collected schemas and where each API's came from. */
export interface CollectedSchemas {
  schemas: SchemaSet;
  /** APIs read from the bus (and not overridden by a local definition). */
  fromBus: string[];
  /** APIs defined by the modules given. */
  local: string[];
}

export interface CollectOptions {
  config: ResolvedConfig;
  logger: Logger;
  /** Read the schemas published on the bus. */
  readBus: boolean;
  /** Absolute paths of modules whose APIs are included. */
  modules: string[];
  /** Bound on reaching Redis and on loading the modules. */
  timeoutMs: number;
}

/** The schemas on the bus and in `modules`, sorted by API name. */
export async function collectSchemas(options: CollectOptions): Promise<CollectedSchemas> {
  const [fromBus, local] = await Promise.all([
    options.readBus ? loadBusSchemas(options.config, options.logger, options.timeoutMs) : Promise.resolve({}),
    options.modules.length ? loadLocalSchemas(options.modules, options.config, options.timeoutMs) : Promise.resolve({}),
  ]);
  const merged: SchemaSet = { ...fromBus, ...local };
  const schemas: SchemaSet = {};
  for (const api of Object.keys(merged).sort()) schemas[api] = merged[api];
  return {
    schemas,
    fromBus: Object.keys(fromBus).filter((api) => !(api in local)).sort(),
    local: Object.keys(local).sort(),
  };
}

/** Every schema published on the bus. Fails, rather than waits, when Redis cannot be reached in time. */
export async function loadBusSchemas(config: ResolvedConfig, logger: Logger, timeoutMs: number): Promise<SchemaSet> {
  const transport = new RedisSchemaTransport({ redis: config.redis, logger });
  try {
    return await withTimeout(
      transport.load(),
      timeoutMs,
      () =>
        new LightbusError(
          `could not read the schemas from Redis at ${redactUrl(config.redis.url)} within ${timeoutMs} ms: is Redis running there? ` +
            'Set the URL with --redis-url, LIGHTBUS_REDIS_URL or redis.url in the config, or wait longer with --timeout.',
        ),
    );
  } finally {
    await transport.close();
  }
}

/**
 * The APIs that `modules` export, serve, or use through a definition, read by importing them
 * in a registrations-only worker thread (TypeScript works without a build step, as in `lightbus run`).
 *
 * @throws ModuleLoadError when a module fails to import.
 */
export async function loadLocalSchemas(modules: string[], config: ResolvedConfig, timeoutMs: number): Promise<Record<string, ApiSchema>> {
  return (await readModuleRegistrations(modules, config, timeoutMs)).schemas;
}

/** What {@link writeSchemaDump} wrote. */
export interface DumpWritten {
  kind: 'stdout' | 'file' | 'directory';
  /** `stdout`, the file, or the directory. */
  target: string;
  /** Files written (none for stdout). */
  files: string[];
}

/** Whether `--out` names a directory: an existing one, or a path ending in a separator. */
export function isDirectoryTarget(out: string): boolean {
  return out.endsWith('/') || out.endsWith(sep) || (existsSync(out) && statSync(out).isDirectory());
}

/** An API name safe as a file name (the characters Python Lightbus keeps). */
export function fileSafeApiName(api: string): string {
  return [...api].filter((c) => /[\p{L}\p{N}._-]/u.test(c)).join('') || '_';
}

/**
 * Writes the schemas as one JSON document to stdout (`out` undefined) or to a file, or as
 * one `<api>.json` per API into a directory (created when missing).
 */
export function writeSchemaDump(schemas: SchemaSet, out: string | undefined, stdout: (text: string) => void): DumpWritten {
  if (out === undefined || out === '-') {
    stdout(toJson(schemas));
    return { kind: 'stdout', target: 'stdout', files: [] };
  }
  const target = resolve(out);
  if (!isDirectoryTarget(out)) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, toJson(schemas));
    return { kind: 'file', target, files: [target] };
  }
  mkdirSync(target, { recursive: true });
  const files: string[] = [];
  const byFile = new Map<string, string>();
  for (const api of Object.keys(schemas)) {
    const name = `${fileSafeApiName(api)}.json`;
    const clash = byFile.get(name);
    if (clash !== undefined) throw new LightbusError(`APIs "${clash}" and "${api}" would both be written to ${name}: dump them to one file instead (--out FILE)`);
    byFile.set(name, api);
    const file = join(target, name);
    writeFileSync(file, toJson({ [api]: schemas[api] }));
    files.push(file);
  }
  return { kind: 'directory', target, files };
}

/**
 * Reads a dump written by `lightbus dumpschema` (or Python Lightbus): one JSON file, or a
 * directory of `*.json` files, each `{ "<api>": { rpcs, events } }`.
 */
export function readSchemaDump(path: string): SchemaSet {
  const full = resolve(path);
  if (!existsSync(full)) throw new LightbusError(`${full} does not exist: write it first with \`lightbus dumpschema --out ${path}\``);
  const files = statSync(full).isDirectory()
    ? readdirSync(full)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(full, f))
    : [full];
  if (files.length === 0) throw new LightbusError(`${full} holds no .json files: write them with \`lightbus dumpschema --out ${path}/\``);
  const schemas: SchemaSet = {};
  for (const file of files) {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new LightbusError(`${file} is not JSON (${(error as Error).message}): expected a dump from \`lightbus dumpschema\``);
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new LightbusError(`${file} is not a schema dump: expected an object { "<api>": { "rpcs": ..., "events": ... } }`);
    }
    Object.assign(schemas, document);
  }
  return schemas;
}

function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
