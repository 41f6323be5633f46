/**
 * The way back from JSON: after a message was validated, the values whose schema was declared
 * with {@link DateTime} or {@link Bytes} become a `Date` or a `Uint8Array` again. Schemas with
 * nothing to revive (most of them) are recognised once and cost nothing afterwards.
 */
import { kRevive } from './schema-types.js';

type Schema = Record<string, unknown>;

const needsRevival = new WeakMap<object, boolean>();

/** Returns `value` with revivable parts converted; the input is modified in place where it is an object. */
export function reviveValue(schema: unknown, value: unknown): unknown {
  if (!isSchema(schema) || !hasRevivable(schema)) return value;
  return revive(schema, value);
}

function revive(schema: Schema, value: unknown): unknown {
  const kind = schema[kRevive];
  if (kind === 'date' && typeof value === 'string') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date;
  }
  if (kind === 'bytes' && typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'));
  if (Array.isArray(value)) {
    const items = schema['items'];
    if (isSchema(items)) for (let i = 0; i < value.length; i++) value[i] = reviveValue(items, value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const properties = schema['properties'];
    const record = value as Record<string, unknown>;
    if (isSchema(properties)) {
      for (const [key, sub] of Object.entries(properties)) if (key in record) record[key] = reviveValue(sub, record[key]);
    }
    const extra = schema['additionalProperties'];
    if (isSchema(extra)) {
      for (const key of Object.keys(record)) if (!isSchema(properties) || !(key in properties)) record[key] = reviveValue(extra, record[key]);
    }
    return record;
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (!Array.isArray(options)) continue;
    // Only an option that could have produced a string is revived from one (date-time | null).
    for (const option of options) if (isSchema(option) && option[kRevive] && typeof value === 'string') return revive(option, value);
  }
  return value;
}

function hasRevivable(schema: Schema): boolean {
  const known = needsRevival.get(schema);
  if (known !== undefined) return known;
  needsRevival.set(schema, false); // guards against recursive schemas
  const found = schema[kRevive] !== undefined || Object.values(schema).some((child) => containsRevivable(child));
  needsRevival.set(schema, found);
  return found;
}

function containsRevivable(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(containsRevivable);
  if (isSchema(node)) return hasRevivable(node);
  return false;
}

function isSchema(node: unknown): node is Schema {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}
