/**
 * The worker thread in which `lightbus dumpschema MODULES...` imports the user's modules. It
 * installs a bus backend that only records (so `createBus()`, `serve()` and `listen()` at
 * module top level register and nothing connects to Redis or serves anything), imports the
 * modules, and posts back the schema of every API they export, serve or use. The thread is
 * terminated afterwards, so timers the modules start do not matter.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { importModule } from '../util/module-loader.js';
import pino, { type Logger } from 'pino';
import { apiSchema, type Api, type ApiSchema, type EventRef, type RpcRef } from '../api/define.js';
import type { BusBackend, CommandRequest } from '../runtime/bus-backend.js';
import { kWorkerBackend } from '../runtime/worker-backend.js';
import type { ResolvedConfig } from '../config/schema.js';
import { LightbusError } from '../errors.js';
import { Registry } from '../runtime/registry.js';
import { SchemaValidator } from '../core/validator.js';

/** What the command sends the thread. */
export interface LocalSchemasRequest {
  modules: string[];
  config: ResolvedConfig;
}

/** What the thread answers. */
export type LocalSchemasReply = { type: 'schemas'; schemas: Record<string, ApiSchema> } | { type: 'failed'; modulePath: string; message: string };

/** A backend that records registrations and refuses to do anything on the bus. */
class RecordingBackend implements BusBackend {
  readonly kind = 'worker' as const;
  readonly registry = new Registry();
  readonly validator = new SchemaValidator();

  constructor(
    private readonly resolvedConfig: ResolvedConfig,
    readonly logger: Logger,
  ) {}

  config(): Promise<ResolvedConfig> {
    return Promise.resolve(this.resolvedConfig);
  }

  request(command: CommandRequest): Promise<unknown> {
    if (command.type === 'serve' || command.type === 'listen') return Promise.resolve(null);
    return Promise.reject(
      new LightbusError(
        `lightbus dumpschema imports modules only to read their API definitions; "${command.type}" at import time is not run. Move it into a handler or an onStart() hook.`,
      ),
    );
  }

  registered(): void {}

  async close(): Promise<void> {}
}

/** Whether a module export is an API made by `defineApi()` (checked by shape: it may come from another copy of the package). */
function isApi(value: unknown): value is Api {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<'name' | 'rpcs' | 'events', unknown>>;
  if (typeof candidate.name !== 'string' || !isRecord(candidate.rpcs) || !isRecord(candidate.events)) return false;
  const rpcsOk = Object.values(candidate.rpcs).every((ref) => isRecord(ref) && ref['kind'] === 'rpc' && isRecord(ref['parametersSchema']));
  const eventsOk = Object.values(candidate.events).every((ref) => isRecord(ref) && ref['kind'] === 'event' && isRecord(ref['parametersSchema']));
  return rpcsOk && eventsOk;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whole definitions first (exported or served); members known only through a reference fill the gaps. */
function collect(exported: Api[], registry: Registry): Record<string, ApiSchema> {
  const schemas: Record<string, ApiSchema> = {};
  const entry = (api: string) => (schemas[api] ??= { rpcs: {}, events: {} });
  const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  for (const api of [...exported, ...[...registry.served.values()].map((s) => s.api)]) {
    const schema = apiSchema(api);
    Object.assign(entry(api.name).rpcs, schema.rpcs);
    Object.assign(entry(api.name).events, schema.events);
  }
  for (const ref of registry.knownRpcs.values() as IterableIterator<RpcRef>) {
    entry(ref.api).rpcs[ref.name] ??= { parameters: plain(ref.parametersSchema), response: plain(ref.responseSchema) };
  }
  for (const ref of registry.knownEvents.values() as IterableIterator<EventRef>) {
    entry(ref.api).events[ref.name] ??= { parameters: plain(ref.parametersSchema) };
  }
  return schemas;
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const request = workerData as LocalSchemasRequest;
  // stdout may carry the dump itself: the modules' log lines go to stderr, warnings only.
  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
  const backend = new RecordingBackend(request.config, logger);
  (globalThis as Record<symbol, unknown>)[kWorkerBackend] = backend;
  const exported: Api[] = [];
  let failed = false;
  for (const modulePath of request.modules) {
    try {
      const namespace = (await importModule(modulePath)) as Record<string, unknown>;
      for (const value of Object.values(namespace)) if (isApi(value)) exported.push(value);
    } catch (error) {
      failed = true;
      port.postMessage({ type: 'failed', modulePath, message: error instanceof Error ? error.message : String(error) } satisfies LocalSchemasReply);
      break;
    }
  }
  if (!failed) port.postMessage({ type: 'schemas', schemas: collect(exported, backend.registry) } satisfies LocalSchemasReply);
}
