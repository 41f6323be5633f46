/**
 * Validation of RPC parameters, results and event parameters against JSON Schemas: our own
 * (TypeBox, from `defineApi`) and those other processes publish on the bus, Python Lightbus
 * included. Validation sits on the RPC hot path, so every schema is compiled once and the
 * success path allocates nothing; all the work of explaining a failure happens only on failure.
 */
import { ValidationError, type ValidationIssue } from '../errors.js';
import { addFormats, Ajv, type ErrorObject, type ValidateFunction } from '../vendor/ajv.js';

/** Where a validated value belongs, for error messages: `auth.check_password parameters`. */
export interface ValidationContext {
  api: string;
  member: string;
  /** What was validated: `parameters`, `response`... */
  what: string;
}

/**
 * An Ajv instance configured for schemas written elsewhere: unknown keywords (2020-12's
 * `prefixItems`, titles, TypeBox extras) are ignored rather than rejected, every error is
 * collected, and each error carries the offending value (`verbose`) so messages can show it.
 * `date-time` and `time` accept a missing time zone: Python's `datetime.isoformat()` of a naive
 * datetime has none, and Python Lightbus does not check formats, so a strict check would
 * reject what Python peers routinely send.
 */
export function createAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, addUsedSchema: false });
  addFormats(ajv);
  ajv.addFormat('date-time', addFormats.get('iso-date-time'));
  ajv.addFormat('time', addFormats.get('iso-time'));
  return ajv;
}

/** Compiled schemas looked up by JSON text are capped; the oldest are forgotten first. */
const DEFAULT_MAX_TEXT_ENTRIES = 1000;

type Schema = object | boolean;

/**
 * Validates values against JSON Schemas, compiling each schema once.
 *
 * Compiled functions are cached by schema object (a WeakMap: a schema dropped by its owner is
 * freed) and by JSON text (schemas read from Redis are new objects on every refresh but
 * usually the same text).
 */
export class SchemaValidator {
  readonly #ajv = createAjv();
  readonly #byObject = new WeakMap<object, ValidateFunction>();
  readonly #byText = new Map<string, ValidateFunction>();
  readonly #maxTextEntries: number;
  #compileCount = 0;

  constructor(options: { maxTextEntries?: number } = {}) {
    this.#maxTextEntries = options.maxTextEntries ?? DEFAULT_MAX_TEXT_ENTRIES;
  }

  /**
   * Throws a {@link ValidationError} listing every problem when `value` does not match
   * `schema`, e.g. `auth.check_password parameters: /username must be string, got 42`.
   */
  validate(schema: Schema, value: unknown, context: ValidationContext): void {
    const check = this.compile(schema);
    if (check(value)) return;
    const issues = issuesFromErrors(check.errors ?? []);
    const detail = issues.map(describeIssue).join('; ');
    throw new ValidationError(`${context.api}.${context.member} ${context.what}: ${detail}`, context.api, context.member, issues);
  }

  /** Whether `value` matches `schema`; nothing is allocated when it does. */
  isValid(schema: Schema, value: unknown): boolean {
    return this.compile(schema)(value);
  }

  /** The problems of `value` against `schema`, or an empty list when it matches. */
  issues(schema: Schema, value: unknown): ValidationIssue[] {
    const check = this.compile(schema);
    return check(value) ? [] : issuesFromErrors(check.errors ?? []);
  }

  /**
   * The compiled function of `schema`, from the cache when possible. A schema Ajv cannot
   * compile throws an Error naming the reason.
   */
  compile(schema: Schema): ValidateFunction {
    const isObject = typeof schema === 'object' && schema !== null;
    if (isObject) {
      const cached = this.#byObject.get(schema);
      if (cached) return cached;
    }
    const text = JSON.stringify(schema);
    let compiled = this.#byText.get(text);
    if (!compiled) {
      compiled = this.#compileFresh(schema);
      if (this.#byText.size >= this.#maxTextEntries) {
        const oldest = this.#byText.keys().next();
        if (!oldest.done) this.#byText.delete(oldest.value);
      }
      this.#byText.set(text, compiled);
    }
    if (isObject) this.#byObject.set(schema, compiled);
    return compiled;
  }

  /** How many schemas were compiled so far (a cache hit compiles nothing). */
  get compileCount(): number {
    return this.#compileCount;
  }

  /** How many compiled schemas are held by JSON text. */
  get cachedTextCount(): number {
    return this.#byText.size;
  }

  #compileFresh(schema: Schema): ValidateFunction {
    const usable = withKnownMetaSchema(this.#ajv, schema);
    const compiled = this.#ajv.compile(usable);
    // Ajv keeps its own strong reference to every compiled schema object; we cache
    // ourselves, so drop Ajv's to let schemas refreshed from Redis be collected.
    if (typeof usable === 'object') this.#ajv.removeSchema(usable);
    this.#compileCount++;
    return compiled;
  }
}

/**
 * Ajv refuses a schema whose `$schema` it does not know (Python Lightbus 0.x published
 * draft-04; others may say 2020-12). The keywords we check mean the same in all of them, so
 * an unknown `$schema` is dropped rather than failing validation of the whole API.
 */
function withKnownMetaSchema(ajv: Ajv, schema: Schema): Schema {
  if (typeof schema !== 'object' || schema === null) return schema;
  const meta = (schema as { $schema?: unknown }).$schema;
  if (typeof meta !== 'string' || ajv.getSchema(meta)) return schema;
  const { $schema: _dropped, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/** The `expected` of a missing required property and of a property the schema forbids. */
const PRESENT = 'present (required)';
const ABSENT = 'absent (not in the schema)';

/** One issue as a phrase: `/username must be string, got 42`. */
export function describeIssue(issue: ValidationIssue): string {
  if (issue.expected === PRESENT) return `${issue.path} is required but missing`;
  if (issue.expected === ABSENT) return `${issue.path} is not allowed (not in the schema), got ${issue.received}`;
  return `${issue.path} must be ${issue.expected}, got ${issue.received}`;
}

/**
 * Turns Ajv's errors into one issue per problem. The branch errors of an `anyOf`/`oneOf`
 * are folded into the union's own issue (`string or null`), which says more than each
 * branch's complaint on its own.
 */
export function issuesFromErrors(errors: readonly ErrorObject[]): ValidationIssue[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (unions.some((u) => u !== error && error.schemaPath.startsWith(`${u.schemaPath}/`))) continue;
    const issue = issueOf(error);
    const key = `${issue.path}\u0000${issue.expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function issueOf(error: ErrorObject): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  const path = error.instancePath || '/';
  switch (error.keyword) {
    case 'required':
      return { path: childPath(error.instancePath, String(params['missingProperty'])), expected: PRESENT, received: 'nothing' };
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const value = (error.data as Record<string, unknown> | undefined)?.[key];
      return { path: childPath(error.instancePath, key), expected: ABSENT, received: renderValue(value) };
    }
    case 'type':
      return { path, expected: String(params['type']).split(',').join(' or '), received: renderValue(error.data) };
    case 'anyOf':
    case 'oneOf': {
      const branches = Array.isArray(error.schema) ? (error.schema as unknown[]) : [];
      const described = branches.map(describeBranch);
      const expected = described.every((d) => d !== undefined) && described.length > 0 ? [...new Set(described)].join(' or ') : `one of the ${error.keyword} alternatives`;
      return { path, expected, received: renderValue(error.data) };
    }
    case 'enum':
      return { path, expected: `one of ${(params['allowedValues'] as unknown[]).map((v) => renderValue(v)).join(', ')}`, received: renderValue(error.data) };
    case 'const':
      return { path, expected: renderValue(params['allowedValue']), received: renderValue(error.data) };
    case 'format':
      return { path, expected: `a ${String(params['format'])} string`, received: renderValue(error.data) };
    default:
      return { path, expected: (error.message ?? error.keyword).replace(/^must (be )?/, ''), received: renderValue(error.data) };
  }
}

/** A short description of one alternative of a union, or undefined if it has no simple one. */
function describeBranch(branch: unknown): string | undefined {
  if (typeof branch !== 'object' || branch === null) return undefined;
  const s = branch as Record<string, unknown>;
  if ('const' in s) return renderValue(s['const']);
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).map((v) => renderValue(v)).join(' or ');
  if (typeof s['format'] === 'string') return `a ${s['format']} string`;
  if (typeof s['type'] === 'string') return s['type'];
  if (Array.isArray(s['type'])) return (s['type'] as string[]).join(' or ');
  return undefined;
}

function childPath(parent: string, key: string): string {
  return `${parent}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

const MAX_RENDERED = 60;

/** A short, single-line rendering of a value for messages: `42`, `"5s"`, `{"a":1,...}`. */
export function renderValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > MAX_RENDERED ? `${text.slice(0, MAX_RENDERED)}…` : text;
}
