/**
 * Every failure lightbus reports has its own class. Errors cross threads and processes as
 * plain data ({@link SerializedError}) and are rebuilt by name on the other side, so
 * `instanceof` is checked through a registry symbol rather than the prototype chain: it
 * holds across worker threads and across two copies of the package (as Temporal's SDK does).
 */

import { ERROR_LIMITS, boundText, boundedJson, isPlainRecord, ownErrorData } from './error-data.js';

const kChain = Symbol.for('lightbus.error.chain');

/** An error as it travels between threads and over the wire. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /**
   * Extra fields, JSON-safe: a lightbus error's (api, member, issues...), any other error's own
   * enumerable properties (`code`, `details`...).
   */
  data?: Record<string, unknown>;
  /** The error's `cause`, when it has one (followed a few levels deep). */
  cause?: SerializedError;
}

export class LightbusError extends Error {
  /** A value matches a class when the class's name is in the value's chain of class names. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const chain = (value as Record<symbol, unknown>)[kChain];
    return Array.isArray(chain) && chain.includes(this.name);
  }

  /** Fields beyond name/message/stack that must survive serialisation. */
  toData(): Record<string, unknown> | undefined {
    return undefined;
  }
}

/** Sets the name and the class chain used by `instanceof` across realms. */
function named<T extends abstract new (...args: never[]) => LightbusError>(cls: T, name: string): T {
  Object.defineProperty(cls, 'name', { value: name });
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  const parentChain = (Object.getPrototypeOf(cls.prototype) as Record<symbol, string[] | undefined>)[kChain] ?? [];
  Object.defineProperty(cls.prototype, kChain, { value: [name, ...parentChain] });
  return cls;
}
named(LightbusError, 'LightbusError');

/**
 * A procedure failed in the process that served it. Carries the remote error's name, stack and
 * data (its own fields: `code`, `details`...); its `cause` is the remote error rebuilt, with
 * that error's own causes.
 */
export class RemoteError extends LightbusError {
  constructor(
    message: string,
    readonly remoteName: string,
    readonly remoteStack: string | undefined,
    readonly api?: string,
    readonly procedure?: string,
    readonly remoteData?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  override toData() {
    return { remoteName: this.remoteName, remoteStack: this.remoteStack, api: this.api, procedure: this.procedure, remoteData: this.remoteData };
  }
}
named(RemoteError, 'RemoteError');

/** No result arrived in time. */
export class RpcTimeoutError extends LightbusError {
  constructor(
    message: string,
    readonly api: string,
    readonly procedure: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
  override toData() {
    return { api: this.api, procedure: this.procedure, timeoutMs: this.timeoutMs };
  }
}
named(RpcTimeoutError, 'RpcTimeoutError');

/**
 * No process serves the API the call is for (no live heartbeat lists it, no schema for it is on
 * the bus, even on a fresh look), and the API's `whenNoServer` is `'fail'`: the call was not sent.
 */
export class NoServerError extends LightbusError {
  constructor(
    message: string,
    readonly api: string,
    readonly procedure: string,
  ) {
    super(message);
  }
  override toData() {
    return { api: this.api, procedure: this.procedure };
  }
}
named(NoServerError, 'NoServerError');

/** Writing an event to the bus took longer than the API's fire timeout. */
export class FireTimeoutError extends LightbusError {
  constructor(
    message: string,
    readonly api: string,
    readonly event: string,
  ) {
    super(message);
  }
  override toData() {
    return { api: this.api, event: this.event };
  }
}
named(FireTimeoutError, 'FireTimeoutError');

export interface ValidationIssue {
  /** JSON pointer inside the message, e.g. `/username`. */
  path: string;
  /** What the schema expected. */
  expected: string;
  /** A short rendering of what arrived. */
  received: string;
}

/** Parameters or a result did not match the schema. */
export class ValidationError extends LightbusError {
  constructor(
    message: string,
    readonly api: string,
    readonly member: string,
    readonly issues: ValidationIssue[] = [],
  ) {
    super(message);
  }
  override toData() {
    return { api: this.api, member: this.member, issues: this.issues };
  }
}
named(ValidationError, 'ValidationError');

/** The API is not known where it was needed (serving, or strict validation). */
export class UnknownApiError extends LightbusError {
  constructor(
    message: string,
    readonly api: string,
  ) {
    super(message);
  }
  override toData() {
    return { api: this.api };
  }
}
named(UnknownApiError, 'UnknownApiError');

/** The API is known but has no such RPC or event. */
export class UnknownMemberError extends LightbusError {
  constructor(
    message: string,
    readonly api: string,
    readonly member: string,
  ) {
    super(message);
  }
  override toData() {
    return { api: this.api, member: this.member };
  }
}
named(UnknownMemberError, 'UnknownMemberError');

/** The configuration is invalid. Names the file, the key path and what was expected. */
export class ConfigError extends LightbusError {
  constructor(
    message: string,
    readonly file?: string,
    readonly keyPath?: string,
  ) {
    super(message);
  }
  override toData() {
    return { file: this.file, keyPath: this.keyPath };
  }
}
named(ConfigError, 'ConfigError');

/** The worker thread running a handler died before it answered. */
export class WorkerCrashedError extends LightbusError {}
named(WorkerCrashedError, 'WorkerCrashedError');

/** The bus was closed while the operation was pending, or used after close. */
export class BusClosedError extends LightbusError {}
named(BusClosedError, 'BusClosedError');

/** A handler ran past its deadline, or a call's caller gave up on it. */
export class DeadlineExceededError extends LightbusError {}
named(DeadlineExceededError, 'DeadlineExceededError');

/**
 * A call was withdrawn: its caller's `AbortSignal` fired (the call rejects at once with this),
 * or, in the serving handler, the caller withdrew it (the reason of the handler's signal).
 * Named `AbortError`, as `fetch` names its own; `cause` is the signal's reason.
 */
export class AbortError extends LightbusError {}
named(AbortError, 'AbortError');

/** The rejection of a call its caller aborted, wherever the signal fired (a worker's bus, the invoker). */
export function callAbortedError(api: string, procedure: string, reason: unknown): AbortError {
  return new AbortError(`RPC ${api}.${procedure} was aborted by its caller`, { cause: reason });
}

/** A user module could not be loaded by `lightbus run`. */
export class ModuleLoadError extends LightbusError {
  constructor(
    message: string,
    readonly modulePath: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  override toData() {
    return { modulePath: this.modulePath };
  }
}
named(ModuleLoadError, 'ModuleLoadError');

/**
 * An error as plain data: name, message, stack, data and cause chain, each bounded
 * ({@link ERROR_LIMITS}): a handler's error may hold anything, of any size.
 */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: boundText(typeof error === 'string' ? error : safeString(error), ERROR_LIMITS.messageChars) };
  }
  const serialized: SerializedError = { name: String(error.name), message: boundText(String(error.message), ERROR_LIMITS.messageChars) };
  if (error.stack) serialized.stack = boundText(String(error.stack), ERROR_LIMITS.stackChars);
  // A lightbus error's data may hold a remote error's stack and data, each bounded already: room for both.
  const data = error instanceof LightbusError ? boundedJson(error.toData(), ERROR_LIMITS.dataChars + ERROR_LIMITS.stackChars + 1000) : ownErrorData(error);
  if (isPlainRecord(data)) serialized.data = data;
  if (error.cause !== undefined && depth < ERROR_LIMITS.causeDepth) serialized.cause = serializeError(error.cause, depth + 1);
  return serialized;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Rebuilds a lightbus error of the right class; any other error becomes a plain Error with the
 * same name and its data as own properties. The data may come from another process: fields
 * of the wrong type are left out rather than trusted.
 */
export function deserializeError(e: SerializedError, depth = 0): Error {
  const raw = isPlainRecord(e.data) ? e.data : {};
  // The fields toData() writes; one of another type is left out, not trusted. (The classes type
  // them as always set: an error from elsewhere may still lack one.)
  const d = (key: string) => (typeof raw[key] === 'string' ? raw[key] : undefined) as string;
  let error: Error;
  switch (e.name) {
    case 'RemoteError':
      error = new RemoteError(e.message, d('remoteName') ?? 'Error', d('remoteStack'), d('api'), d('procedure'), isPlainRecord(raw['remoteData']) ? raw['remoteData'] : undefined);
      break;
    case 'RpcTimeoutError':
      error = new RpcTimeoutError(e.message, d('api'), d('procedure'), (typeof raw['timeoutMs'] === 'number' ? raw['timeoutMs'] : undefined) as number);
      break;
    case 'NoServerError':
      error = new NoServerError(e.message, d('api'), d('procedure'));
      break;
    case 'FireTimeoutError':
      error = new FireTimeoutError(e.message, d('api'), d('event'));
      break;
    case 'ValidationError':
      error = new ValidationError(e.message, d('api'), d('member'), validationIssues(raw['issues']));
      break;
    case 'UnknownApiError':
      error = new UnknownApiError(e.message, d('api'));
      break;
    case 'UnknownMemberError':
      error = new UnknownMemberError(e.message, d('api'), d('member'));
      break;
    case 'ConfigError':
      error = new ConfigError(e.message, d('file'), d('keyPath'));
      break;
    case 'WorkerCrashedError':
      error = new WorkerCrashedError(e.message);
      break;
    case 'BusClosedError':
      error = new BusClosedError(e.message);
      break;
    case 'DeadlineExceededError':
      error = new DeadlineExceededError(e.message);
      break;
    case 'AbortError':
      error = new AbortError(e.message);
      break;
    case 'ModuleLoadError':
      error = new ModuleLoadError(e.message, d('modulePath'));
      break;
    default:
      error = new Error(e.message);
      error.name = e.name;
      for (const [key, value] of Object.entries(raw)) {
        if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause' || key === '__proto__') continue;
        Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true });
      }
  }
  if (e.stack) error.stack = e.stack;
  if (e.cause && depth < ERROR_LIMITS.causeDepth) {
    // As `new Error(message, { cause })` makes it: an own property that is not enumerable.
    Object.defineProperty(error, 'cause', { value: deserializeError(e.cause, depth + 1), enumerable: false, writable: true, configurable: true });
  }
  return error;
}

/** The well-formed issues of a list that came from elsewhere; anything else is left out. */
export function validationIssues(value: unknown): ValidationIssue[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (issue): issue is ValidationIssue =>
      isPlainRecord(issue) && typeof issue['path'] === 'string' && typeof issue['expected'] === 'string' && typeof issue['received'] === 'string',
  );
}
