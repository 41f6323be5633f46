/**
 * Turns JavaScript values into values JSON can carry, the way the wire contract asks ("values
 * that JSON cannot carry are converted before sending"), so that a Python peer reads the same
 * data a TypeScript peer meant: dates as ISO-8601 text, bytes as base64, sets as arrays.
 * Pure: no I/O, the input is never modified.
 */

/**
 * Returns a JSON-safe copy of `value`:
 * - `Date` becomes its ISO-8601 string (an invalid date becomes `null`, as `JSON.stringify` does);
 * - `bigint` becomes a number when it is a safe integer, its decimal text otherwise;
 * - `Uint8Array` (so also `Buffer`) and `ArrayBuffer` become base64 text; other typed arrays become arrays of numbers;
 * - `Set` becomes an array, `Map` an object keyed by `String(key)`;
 * - objects with a `toJSON` method are replaced by its result, then converted;
 * - `undefined`, functions and symbols are dropped from objects and become `null` in arrays
 *   (again as `JSON.stringify` does); at the top level they give `undefined`.
 *
 * @throws TypeError when the value contains a reference cycle.
 */
export function toJsonValue(value: unknown): unknown {
  // Most messages are plain data already: checking costs no allocation, copying does.
  if (isPlainJson(value, 0)) return value;
  return convert(value, new Set());
}

/** Deeper than this, the check gives up and the converting walk (which detects cycles) decides. */
const MAX_CHECK_DEPTH = 64;

/** Whether `value` is already exactly what JSON carries: finite numbers, strings, booleans, null, plain arrays and objects. */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > MAX_CHECK_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  if ('toJSON' in (value as object)) return false;
  for (const key in value as Record<string, unknown>) {
    if (key === '__proto__' || !isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function convert(value: unknown, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return bigintToJson(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  if (object instanceof Uint8Array) return Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64');
  if (object instanceof ArrayBuffer) return Buffer.from(object).toString('base64');
  if (ArrayBuffer.isView(object)) return Array.from(object as unknown as ArrayLike<number | bigint>, (n) => convert(n, ancestors));

  if (ancestors.has(object)) throw new TypeError('Cannot convert a value with a reference cycle to JSON');
  ancestors.add(object);
  try {
    if (Array.isArray(object)) return object.map((item) => convert(item, ancestors) ?? null);
    if (object instanceof Set) return Array.from(object, (item) => convert(item, ancestors) ?? null);
    if (object instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of object) setDefined(out, String(key), convert(item, ancestors));
      return out;
    }
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return convert(toJSON.call(object), ancestors);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(object)) setDefined(out, key, convert((object as Record<string, unknown>)[key], ancestors));
    return out;
  } finally {
    ancestors.delete(object);
  }
}

function bigintToJson(value: bigint): number | string {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}

function setDefined(target: Record<string, unknown>, key: string, value: unknown): void {
  // Writing `__proto__` through plain assignment would change the prototype instead of adding a key.
  if (value !== undefined) Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
