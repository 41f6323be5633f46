/**
 * Checks a config (from a file, the environment or flags) against `LightbusConfigSchema` and
 * explains every problem in the user's terms: the key path, what that key takes, what was
 * found, and a guess at the intended key when one is unknown. Secrets never reach a message.
 */
import type { ErrorObject, ValidateFunction } from '../vendor/ajv.js';
import { createAjv, renderValue } from '../core/validator.js';
import { redactUrl } from '../core/redact-url.js';
import { LightbusConfigSchema } from './schema.js';
import { editDistance } from '../util/edit-distance.js';
import { redisTopologyProblems, TOPOLOGY_ERROR_PATHS } from './redis-topology.js';

/** One thing wrong with a config. */
export interface ConfigProblem {
  /** The key as the user wrote it: `apis.auth.rpcTimeoutMs`, or `LIGHTBUS_REDIS_URL`. */
  keyPath: string;
  /** What is wrong, starting with the key: `apis.auth.rpcTimeoutMs must be ..., got "5s"`. */
  text: string;
}

/** A good URL to show next to a bad one. */
export const REDIS_URL_EXAMPLE = 'redis://:password@127.0.0.1:6379/0';

let compiledSchema: ValidateFunction | undefined;

function configSchemaCheck(): ValidateFunction {
  compiledSchema ??= createAjv().compile(LightbusConfigSchema);
  return compiledSchema;
}

/**
 * Every problem of `values` (a whole config or an overlay of some keys), in the order found.
 * `keyName` renames a dotted key path into the source's own name (an env var, a flag).
 */
export function findConfigProblems(values: unknown, keyName: (keyPath: string) => string = (p) => p): ConfigProblem[] {
  const check = configSchemaCheck();
  const problems: ConfigProblem[] = [];
  if (!check(values)) problems.push(...explainErrors(check.errors ?? [], keyName));
  problems.push(...redisTopologyProblems(values, keyName));
  const url = (values as { redis?: { url?: unknown } } | null)?.redis?.url;
  if (typeof url === 'string') {
    const problem = redisUrlProblem(url);
    if (problem) {
      const key = keyName('redis.url');
      problems.push({
        keyPath: key,
        text: `${key} must be a Redis URL such as ${REDIS_URL_EXAMPLE} (rediss:// for TLS), got ${renderValue(redactUrl(url))}: ${problem}`,
      });
    }
  }
  return problems;
}

/** Why `url` is not a usable Redis URL, or undefined when it is. */
export function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'it does not parse as a URL';
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `the scheme is "${parsed.protocol.slice(0, -1)}", not redis or rediss`;
  if (!parsed.hostname) return 'it has no host';
  if (parsed.pathname !== '' && parsed.pathname !== '/' && !/^\/\d+$/.test(parsed.pathname)) {
    return 'the path may only be a database number, like /0';
  }
  return undefined;
}

/**
 * Ajv reports a failing union once per branch and once for the union itself, and a bad
 * integer once per broken constraint; the user needs one line per key, saying everything
 * the key takes. So errors are grouped by key, and the outermost schema of each key describes
 * what was expected.
 */
function explainErrors(errors: readonly ErrorObject[], keyName: (keyPath: string) => string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byPath = new Map<string, ErrorObject>();
  for (const error of errors) {
    if (error.keyword === 'additionalProperties') {
      problems.push(unknownKey(error, keyName));
      continue;
    }
    // The URL check says more about a bad redis.url than the schema's pattern does.
    if (error.keyword === 'pattern' && error.instancePath === '/redis/url') continue;
    // A half-configured cluster or sentinel block gets the fix (redis-topology.ts), not "must have required property".
    if ((error.keyword === 'required' || error.keyword === 'minItems') && TOPOLOGY_ERROR_PATHS.test(error.instancePath)) continue;
    const outermost = byPath.get(error.instancePath);
    if (!outermost || error.schemaPath.length < outermost.schemaPath.length) byPath.set(error.instancePath, error);
  }
  for (const [instancePath, error] of byPath) {
    const key = keyName(keyPathOf(pointerSegments(instancePath)));
    const subject = instancePath === '' ? 'the configuration' : key;
    const expected = error.keyword === 'required' ? undefined : describeSchema(error.parentSchema);
    const text =
      expected === undefined
        ? `${subject} ${error.message ?? 'is invalid'}`
        : `${subject} must be ${expected}, got ${renderSafely(error.data)}`;
    problems.push({ keyPath: instancePath === '' ? '' : key, text });
  }
  return problems;
}

/** Keys earlier versions took, with what replaces them: an old config gets the fix, not a bare "unknown key". */
const REMOVED_KEYS: Record<string, string> = {
  'rpc.expiryMs':
    "a call's expiry marker now lives as long as its caller waits (apis.<name>.rpcTimeoutMs, default 5000, or { timeoutMs } on the call), so a server never starts a call its caller gave up on. Delete the key",
};

function unknownKey(error: ErrorObject, keyName: (keyPath: string) => string): ConfigProblem {
  const unknown = String((error.params as { additionalProperty: unknown }).additionalProperty);
  const path = keyPathOf([...pointerSegments(error.instancePath), unknown]);
  const key = keyName(path);
  const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
  const removed = Object.hasOwn(REMOVED_KEYS, path) ? REMOVED_KEYS[path] : undefined;
  if (removed) return { keyPath: key, text: `"${key}" is no longer a setting: ${removed}` };
  const guess = closestKey(unknown, known);
  const hint = guess ? ` (did you mean "${guess}"?)` : known.length > 0 ? ` (known keys here: ${known.join(', ')})` : '';
  return { keyPath: key, text: `unknown key "${key}"${hint}` };
}

/** A human description of what a schema accepts: `an integer >= 1 (milliseconds)`. */
export function describeSchema(schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const s = schema as Record<string, unknown>;
  const unit = typeof s['description'] === 'string' && s['description'].includes('milliseconds') ? ' (milliseconds)' : '';
  const branches = (s['anyOf'] ?? s['oneOf']) as unknown[] | undefined;
  if (Array.isArray(branches)) {
    if (branches.every((b) => typeof b === 'object' && b !== null && 'const' in b)) {
      return `one of ${branches.map((b) => renderValue((b as { const: unknown }).const)).join(', ')}`;
    }
    const parts = branches.map(describeSchema);
    return parts.every((p) => p !== undefined) ? parts.join(' or ') + unit : undefined;
  }
  if ('const' in s) return renderValue(s['const']);
  if (Array.isArray(s['enum'])) return `one of ${s['enum'].map((v) => renderValue(v)).join(', ')}`;
  switch (s['type']) {
    case 'integer':
      return `an integer${range(s)}${unit}`;
    case 'number':
      return `a number${range(s)}${unit}`;
    case 'string':
      if (typeof s['pattern'] === 'string') return `a string matching ${s['pattern']}`;
      return s['minLength'] === 1 ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'null':
      return 'null';
    default:
      return undefined;
  }
}

function range(s: Record<string, unknown>): string {
  const min = s['minimum'];
  const max = s['maximum'];
  if (typeof min === 'number' && typeof max === 'number') return ` from ${min} to ${max}`;
  if (typeof min === 'number') return ` >= ${min}`;
  if (typeof max === 'number') return ` <= ${max}`;
  return '';
}

/** Values shown in config messages may be URLs with passwords in them. */
function renderSafely(value: unknown): string {
  return renderValue(typeof value === 'string' ? redactUrl(value) : value);
}

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `['apis', 'my.api', 'rpcTimeoutMs']` → `apis["my.api"].rpcTimeoutMs`. */
export function keyPathOf(segments: readonly string[]): string {
  let path = '';
  for (const segment of segments) {
    if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/**
 * The known key the user most likely meant. Case and underscores are ignored first, so
 * Python-style `batch_size` finds `batchSize`; then small typos (edit distance up to a third
 * of the word) are forgiven.
 */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const normal = (k: string) => k.toLowerCase().replace(/_/g, '');
  const target = normal(unknown);
  const exact = known.find((k) => normal(k) === target);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(target.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(target, normal(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
