/**
 * How the shell shows things: results, errors (with the remote stack of a failed handler),
 * one-line signatures of RPCs and events read from their JSON Schemas, and whole APIs.
 */
import { inspect, types } from 'node:util';
import type { ApiSchema } from '../api/define.js';
import { LightbusError, RemoteError } from '../errors.js';

export interface FormatOptions {
  /** ANSI colours (the output is a terminal). */
  colors: boolean;
  /** Width to wrap printed values at (the terminal's columns). */
  columns?: number;
}

type JsonSchema = Record<string, unknown>;
type Style = 'red' | 'yellow' | 'green' | 'cyan' | 'gray' | 'bold';

/** Wraps text in the ANSI codes of a style, when colours are on. */
export function paint(text: string, style: Style, colors: boolean): string {
  const codes = inspect.colors[style];
  return colors && codes ? `\u001b[${codes[0]}m${text}\u001b[${codes[1]}m` : text;
}

/** A result as the shell prints it: `util.inspect`, deep enough for typical payloads. */
export function formatValue(value: unknown, options: FormatOptions): string {
  if (isError(value) && value.name !== 'SyntaxError') return formatError(value, options);
  return inspect(value, { colors: options.colors, depth: 8, breakLength: options.columns ?? 100, compact: 3 });
}

/**
 * An error as the shell prints it: name and message, then what the error carries that helps:
 * the stack of the remote handler for a {@link RemoteError}, the cause (a validation error's
 * message already lists every problem). Local stack frames are left out (they point into the
 * shell or the library, never at the user's problem); `_error.stack` still has them.
 */
export function formatError(error: unknown, options: FormatOptions): string {
  if (!isError(error)) return `${paint('Thrown', 'red', options.colors)}: ${inspect(error, { colors: options.colors })}`;
  const lines = [`${paint(error.name, 'red', options.colors)}: ${error.message}`];
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && !(error instanceof LightbusError)) lines[0] += paint(` [${code}]`, 'gray', options.colors);
  if (error instanceof RemoteError && error.remoteStack) {
    lines.push(paint('  remote stack:', 'gray', options.colors));
    for (const line of error.remoteStack.trimEnd().split('\n')) lines.push(`    ${line}`);
  }
  // A RemoteError's cause is the remote error its message and stack already show: only that error's own causes are news.
  const shownCause = error instanceof RemoteError && isError(error.cause) ? error.cause.cause : error.cause;
  if (shownCause !== undefined) {
    const cause = formatError(shownCause, options).split('\n');
    lines.push(`  caused by ${cause[0]}`, ...cause.slice(1).map((line) => `  ${line}`));
  }
  return lines.join('\n');
}

/** An error of any realm: the shell's scope is a separate VM context with its own `Error`. */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/** A short type for a JSON Schema: `string`, `number[]`, `"a" | "b"`, `{ id: integer }`. */
export function describeType(schema: unknown, depth = 0): string {
  if (schema === true || schema === undefined) return 'any';
  if (schema === false) return 'never';
  if (typeof schema !== 'object' || schema === null) return 'any';
  const s = schema as JsonSchema;
  if ('const' in s) return JSON.stringify(s['const']);
  if (Array.isArray(s['enum'])) return s['enum'].map((v) => JSON.stringify(v)).join(' | ');
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = s[key];
    if (Array.isArray(options)) return options.map((o) => describeType(o, depth)).join(' | ');
  }
  if (typeof s['$ref'] === 'string') return s['$ref'].split('/').pop() ?? 'any';
  const type = s['type'];
  if (Array.isArray(type)) return type.map((t) => describeType({ ...s, type: t }, depth)).join(' | ');
  switch (type) {
    case 'array':
      return `${wrapUnion(describeType(s['items'], depth))}[]`;
    case 'object': {
      const properties = s['properties'] as Record<string, unknown> | undefined;
      if (!properties || Object.keys(properties).length === 0 || depth >= 2) return 'object';
      return `{ ${fieldList(s, depth + 1)} }`;
    }
    case 'string':
      return typeof s['format'] === 'string' ? `string<${s['format']}>` : 'string';
    case undefined:
      return 'any';
    default:
      return String(type);
  }
}

function wrapUnion(text: string): string {
  return text.includes(' | ') ? `(${text})` : text;
}

/** `username: string, age?: integer`, from an object schema's properties and `required`. */
function fieldList(schema: JsonSchema, depth: number): string {
  const properties = (schema['properties'] ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  return Object.entries(properties)
    .map(([name, property]) => `${name}${required.has(name) ? '' : '?'}: ${describeType(property, depth)}`)
    .join(', ');
}

/** `check_password(username: string, password: string) -> boolean`. */
export function rpcSignature(name: string, rpc: ApiSchema['rpcs'][string]): string {
  return `${name}(${fieldList(rpc.parameters, 1)}) -> ${describeType(rpc.response, 1)}`;
}

/** `user_registered(username: string, email: string)`. */
export function eventSignature(name: string, event: ApiSchema['events'][string]): string {
  return `${name}(${fieldList(event.parameters, 1)})`;
}

/** An API with one line per RPC and per event, as `.apis` and printing an API object show it. */
export function describeApi(name: string, schema: ApiSchema, options: FormatOptions): string {
  const rpcs = Object.entries(schema.rpcs ?? {});
  const events = Object.entries(schema.events ?? {});
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const lines = [`${paint(name, 'bold', options.colors)}  ${paint(`${count(rpcs.length, 'RPC')}, ${count(events.length, 'event')}`, 'gray', options.colors)}`];
  for (const [member, rpc] of rpcs) lines.push(`  ${paint('rpc  ', 'cyan', options.colors)} ${rpcSignature(member, rpc)}`);
  for (const [member, event] of events) lines.push(`  ${paint('event', 'green', options.colors)} ${eventSignature(member, event)}`);
  return lines.join('\n');
}

