/**
 * Parameters typed on a command line: `key=value` items (the value is JSON where it parses as
 * JSON, a string otherwise) and `--params '{...}'`, for `lightbus call`, `lightbus fire` and
 * `inspect events --where`. Pure: no I/O; a mistake throws {@link UsageError}.
 */

/** The command line was wrong; commands exit with the usage code (2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parameters read from the command line, with the text each `key=value` item was typed as. */
export interface ParsedParams {
  params: Record<string, unknown>;
  /** The text after `=` of each `key=value` item, so a schema can ask for the string back. */
  typed: Record<string, string>;
}

/** One `key=value` item: the key, the value as JSON where it parses, and the text as typed. */
export interface KeyValue {
  key: string;
  value: unknown;
  text: string;
}

/**
 * Splits `key=value` at the first `=`. `n=7` gives 7, `ok=true` true, `tags=["a"]` an array,
 * `name=ada` the string "ada", `name="7"` the string "7", `empty=` the empty string.
 *
 * @throws UsageError when there is no `=` or the key is empty.
 */
export function parseKeyValue(item: string): KeyValue {
  const eq = item.indexOf('=');
  if (eq <= 0) throw new UsageError(`"${item}" is not a key=value parameter (e.g. username=ada, count=3, tags='["a","b"]')`);
  const text = item.slice(eq + 1);
  return { key: item.slice(0, eq), value: parseJsonOrString(text), text };
}

/** The value as JSON when it is valid JSON, else the text itself. */
export function parseJsonOrString(text: string): unknown {
  if (text.trim() === '') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Merges `--params` (a JSON object) and `key=value` items; items win over `--params`.
 *
 * @throws UsageError when `--params` is not a JSON object, an item is malformed, or a key repeats.
 */
export function parseParams(items: readonly string[], paramsJson?: string): ParsedParams {
  const params: Record<string, unknown> = {};
  const typed: Record<string, string> = {};
  if (paramsJson !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(paramsJson);
    } catch (error) {
      throw new UsageError(`--params is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
      throw new UsageError(`--params must be a JSON object such as '{"username": "ada"}', got ${JSON.stringify(decoded)}`);
    }
    for (const [key, value] of Object.entries(decoded)) define(params, key, value);
  }
  for (const item of items) {
    const { key, value, text } = parseKeyValue(item);
    if (Object.hasOwn(typed, key)) throw new UsageError(`parameter "${key}" is given twice`);
    define(params, key, value);
    define(typed, key, text);
  }
  return { params, typed };
}

/**
 * Uses the schema to undo a JSON reading the user did not mean: with `username=007` the item
 * parses as the number 7, but when the schema says `username` is a string (and not a number)
 * the typed text "007" is what was meant. Values given through `--params` are left alone.
 */
export function preferSchemaTypes(parsed: ParsedParams, parametersSchema: unknown): Record<string, unknown> {
  const properties = isObject(parametersSchema) && isObject(parametersSchema['properties']) ? parametersSchema['properties'] : {};
  const out = { ...parsed.params };
  for (const [key, text] of Object.entries(parsed.typed)) {
    const value = out[key];
    const schema = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (typeof value === 'string' || schema === undefined) continue;
    const types = acceptedTypes(schema);
    if (types !== undefined && types.has('string') && !types.has(jsonType(value))) define(out, key, text);
  }
  return out;
}

/**
 * `api.member` split at the last dot, so dotted API names work (`my_company.auth.check`).
 *
 * @throws UsageError when there is no dot, or nothing on one side of it.
 */
export function parseMemberName(text: string): { api: string; member: string } {
  const dot = text.lastIndexOf('.');
  if (dot <= 0 || dot === text.length - 1) {
    throw new UsageError(`"${text}" is not a member name: write it as API.MEMBER, e.g. auth.check_password`);
  }
  return { api: text.slice(0, dot), member: text.slice(dot + 1) };
}

/** The JSON Schema types a schema accepts; undefined when it does not say (anything goes). */
function acceptedTypes(schema: unknown): Set<string> | undefined {
  if (!isObject(schema)) return undefined;
  const type = schema['type'];
  if (typeof type === 'string') return widen([type]);
  if (Array.isArray(type)) return widen(type.filter((t): t is string => typeof t === 'string'));
  for (const combinator of ['anyOf', 'oneOf'] as const) {
    const options = schema[combinator];
    if (!Array.isArray(options)) continue;
    const all = new Set<string>();
    for (const option of options) {
      const types = acceptedTypes(option);
      if (types === undefined) return undefined;
      for (const t of types) all.add(t);
    }
    return all;
  }
  return undefined;
}

/** An integer is a number too. */
function widen(types: string[]): Set<string> {
  const set = new Set(types);
  if (set.has('number')) set.add('integer');
  return set;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Plain assignment would let a `__proto__` key change the object's prototype. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
