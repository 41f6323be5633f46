/**
 * The size bounds of an error as it travels, and the JSON-safe copy of the data it carries.
 * An error's data may come from another process (untrusted: any shape, any size), and a
 * handler's own error may hold anything (a socket, a cycle, a megabyte of text): every copy
 * made here is JSON-safe and bounded, and what is cut says so in the text that remains.
 */

/** Per error of a cause chain; a chain is followed at most {@link ERROR_LIMITS.causeDepth} levels deep. */
export const ERROR_LIMITS = Object.freeze({
  messageChars: 8_000,
  stackChars: 8_000,
  /** About how many characters of JSON an error's data may take. */
  dataChars: 16_000,
  causeDepth: 4,
});

/** Nesting beyond this is cut: the JSON a peer reads back must not blow its stack either. */
const MAX_NESTING = 32;

/** `text`, or its first `max` characters followed by a marker naming how many were cut. */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [${text.length - max} more characters cut]`;
}

/** Own properties that are not data: the error's identity and chain travel on their own. */
const NOT_DATA = new Set(['name', 'message', 'stack', 'cause', '__proto__']);

/**
 * An error's own enumerable properties (a `code`, `details`, an `errno`...) as bounded
 * JSON-safe data, or undefined when it has none.
 */
export function ownErrorData(error: Error): Record<string, unknown> | undefined {
  let keys: string[];
  try {
    keys = Object.keys(error).filter((key) => !NOT_DATA.has(key));
  } catch {
    return undefined;
  }
  if (keys.length === 0) return undefined;
  const own: Record<string, unknown> = {};
  for (const key of keys) {
    try {
      own[key] = (error as unknown as Record<string, unknown>)[key];
    } catch {
      // A throwing getter carries nothing.
    }
  }
  const data = boundedJson(own);
  return isPlainRecord(data) && Object.keys(data).length > 0 ? data : undefined;
}

/**
 * A JSON-safe copy of `value` that takes about `budget` characters of JSON at most: long strings
 * are cut with a marker; an array or object that reaches the budget ends with a marker entry
 * (`"… 9 more items cut"`, key `"…"`). What JSON cannot carry (functions, symbols, undefined,
 * cycles, NaN) is left out, as `JSON.stringify` would; `toJSON` is honoured (dates).
 */
export function boundedJson(value: unknown, budget: number = ERROR_LIMITS.dataChars): unknown {
  const copied = copyJson(value, { left: budget, seen: new Set() }, 0);
  return copied === SKIP ? undefined : copied;
}

const SKIP = Symbol('skip');

interface Budget {
  left: number;
  seen: Set<object>;
}

function copyJson(value: unknown, budget: Budget, depth: number): unknown {
  switch (typeof value) {
    case 'string': {
      const text = boundText(value, Math.max(0, budget.left - 2));
      budget.left -= text.length + 2;
      return text;
    }
    case 'number':
      budget.left -= 8;
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      budget.left -= 5;
      return value;
    case 'bigint':
      return copyJson(String(value), budget, depth);
    case 'object':
      break;
    default:
      return SKIP;
  }
  if (value === null) {
    budget.left -= 4;
    return null;
  }
  if (budget.seen.has(value) || depth >= MAX_NESTING) return SKIP;
  const toJson = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJson === 'function') {
    let converted: unknown;
    try {
      converted = toJson.call(value);
    } catch {
      return SKIP;
    }
    if (converted !== value) return copyJson(converted, budget, depth);
  }
  budget.seen.add(value);
  try {
    return Array.isArray(value) ? copyArray(value, budget, depth) : copyObject(value as Record<string, unknown>, budget, depth);
  } finally {
    budget.seen.delete(value);
  }
}

function copyArray(items: unknown[], budget: Budget, depth: number): unknown[] {
  const out: unknown[] = [];
  budget.left -= 2;
  for (let i = 0; i < items.length; i++) {
    if (budget.left <= 0) {
      out.push(`… ${items.length - i} more items cut`);
      break;
    }
    const item = copyJson(items[i], budget, depth + 1);
    out.push(item === SKIP ? null : item);
    budget.left -= 1;
  }
  return out;
}

function copyObject(source: Record<string, unknown>, budget: Budget, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  budget.left -= 2;
  const keys = Object.keys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === '__proto__') continue;
    if (budget.left <= 0) {
      out['…'] = `${keys.length - i} more keys cut`;
      break;
    }
    let item: unknown;
    try {
      item = copyJson(source[key], budget, depth + 1);
    } catch {
      item = SKIP;
    }
    if (item === SKIP) continue;
    budget.left -= key.length + 4;
    out[key] = item;
  }
  return out;
}

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
