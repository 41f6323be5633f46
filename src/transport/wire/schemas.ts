/**
 * The schema layout on the wire (see docs/wire-format.md, "Schemas"): one
 * `schema:{api}` string key per API holding compact JSON, with a TTL, and the `schemas` set
 * listing the API names. Pure: no I/O, and decoding never throws.
 */
import type { Malformed } from './rpc.js';

/** The set of API names whose schemas were published. */
export const SCHEMA_SET_KEY = 'schemas';

/** The key holding one API's schema. */
export function schemaKey(api: string): string {
  return `schema:${api}`;
}

/** Compact JSON, as Python reads it with `json.loads`. */
export function encodeSchema(schema: unknown): string {
  const json = JSON.stringify(schema);
  if (json === undefined) throw new TypeError('A schema must be a JSON value, not undefined');
  return json;
}

/**
 * Decodes a stored schema. It must be a JSON object (`{"rpcs": ..., "events": ...}`); when
 * `rpcs` or `events` are present they must be objects too.
 */
export function decodeSchema(json: string): { schema: Record<string, unknown> } | Malformed {
  let decoded: unknown;
  try {
    decoded = JSON.parse(json);
  } catch (error) {
    return { malformed: `not JSON (${(error as Error).message})` };
  }
  if (!isObject(decoded)) return { malformed: 'not a JSON object' };
  for (const section of ['rpcs', 'events']) {
    if (section in decoded && !isObject(decoded[section])) return { malformed: `"${section}" is not an object` };
  }
  return { schema: decoded };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
