/**
 * The schema of every API that loaded modules define: exported, served, or known only through
 * a reference they called or fired. This is what `lightbus dumpschema MODULES...` prints for
 * the modules, read in a registrations-only worker thread (worker.ts).
 */
import { apiSchema, type Api, type ApiSchema, type EventRef, type RpcRef } from '../api/define.js';
import type { Registry } from './registry.js';

/** Whole definitions first (exported or served); members known only through a reference fill the gaps. */
export function definedSchemas(exported: readonly unknown[], registry: Registry): Record<string, ApiSchema> {
  const schemas: Record<string, ApiSchema> = {};
  const entry = (api: string) => (schemas[api] ??= { rpcs: {}, events: {} });
  const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  for (const api of [...exported.filter(isApi), ...[...registry.served.values()].map((s) => s.api)]) {
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
