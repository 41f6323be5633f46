/**
 * The APIs on the bus: what their published schemas say they offer (RPCs, events) and which
 * processes serve them (from heartbeats). An API served by a process that publishes no schema
 * (a Python peer may not) or whose schema expired still shows up, from the heartbeats.
 */
import type { ApiSchema } from '../api/define.js';
import { UnknownMemberError } from '../errors.js';
import { matchesApi, type MemberPattern } from './patterns.js';
import type { ProcessRow } from './processes.js';

/** A process serving an API, as shown next to it. */
export interface Server {
  service: string;
  process: string;
  status: 'live' | 'silent';
}

export interface ApiRow {
  api: string;
  rpcs: string[];
  events: string[];
  /** Whether a schema is published for it (else its members are unknown). */
  schema: boolean;
  servedBy: Server[];
}

/**
 * Joins published schemas (as `SchemaTransport.load()` returns them) with heartbeats, for the
 * APIs matching the patterns (all with none), sorted by name.
 */
export function describeApis(schemas: Record<string, unknown>, processes: readonly ProcessRow[], patterns: readonly MemberPattern[] = []): ApiRow[] {
  const names = new Set(Object.keys(schemas));
  for (const p of processes) for (const api of p.apis) names.add(api);
  return [...names]
    .filter((api) => matchesApi(patterns, api))
    .sort()
    .map((api) => {
      const schema = schemas[api] as { rpcs?: Record<string, unknown>; events?: Record<string, unknown> } | undefined;
      return {
        api,
        rpcs: Object.keys(schema?.rpcs ?? {}).sort(),
        events: Object.keys(schema?.events ?? {}).sort(),
        schema: schema !== undefined,
        servedBy: servers(processes, api),
      };
    });
}

/** The processes whose heartbeat says they serve the API. */
export function servers(processes: readonly ProcessRow[], api: string): Server[] {
  return processes.filter((p) => p.apis.includes(api)).map(({ service, process, status }) => ({ service, process, status }));
}

/**
 * A member's schema from the schemas on the bus: undefined when the API has no published
 * schema (it is then sent unchecked, as to a peer that publishes none).
 *
 * @throws UnknownMemberError when the API's schema has no such member.
 */
export function memberSchema(
  schemas: Record<string, ApiSchema>,
  api: string,
  kind: 'rpcs' | 'events',
  member: string,
): { parameters: Record<string, unknown> } | undefined {
  if (!Object.hasOwn(schemas, api)) return undefined;
  const members = schemas[api]![kind] ?? {};
  if (Object.hasOwn(members, member)) return members[member];
  const names = Object.keys(members).sort();
  const what = kind === 'rpcs' ? 'RPC' : 'event';
  throw new UnknownMemberError(
    `API "${api}" has no ${what} "${member}" (its ${kind === 'rpcs' ? 'RPCs' : 'events'}: ${names.length > 0 ? names.join(', ') : 'none'})`,
    api,
    member,
  );
}
