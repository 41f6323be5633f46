/**
 * The RPC and result wire codec: key names, return paths and the JSON blobs that travel in
 * the call queues and result lists (see docs/wire-format.md, "RPC and results").
 * Pure: no I/O, and the decoders never throw on bad input.
 *
 * What Python Lightbus 1.x writes and requires (read in `lightbus/message.py`,
 * `lightbus/serializers/blob.py` and `base.py`, `lightbus/transports/redis/rpc.py`, `result.py`):
 *
 * - A blob is `{"metadata": {...}, "kwargs": {...}}`. Readers take `decoded.get("metadata", {})`
 *   and `decoded.get("kwargs", {})`, so extra TOP-LEVEL fields are ignored.
 * - Calls: Python writes metadata `id`, `api_name`, `procedure_name`, `return_path`, and
 *   requires all four to be present and non-empty. It then builds the message with
 *   `RpcMessage(**metadata, kwargs=kwargs)`: an EXTRA METADATA FIELD is an unexpected keyword
 *   argument and makes the Python server fail on the call. So we write exactly those four.
 * - Results: Python writes metadata `id`, `rpc_message_id`, `error` (a JSON boolean) and, only
 *   when `error` is true, `trace`; the value goes in `kwargs.result`. It requires `id` and
 *   `rpc_message_id` (non-empty) and builds `ResultMessage(**metadata, api_name=...,
 *   procedure_name=..., result=kwargs.get("result"))`: an extra metadata field, and in
 *   particular `api_name`/`procedure_name` (given twice), makes the Python caller fail. A
 *   missing `error` means false, a missing `result` means None.
 * - Python's caller pipelines RPUSH, SET, EXPIRE in that order, so a fast server can pop a call
 *   before its marker exists; we write the marker first, as the contract asks.
 * - Python writes JSON with `sort_keys=True` and the default `", "`/`": "` separators; readers
 *   only parse it, so our compact JSON is read the same.
 * - An error result's `result` is the `repr` of the Python exception (`ValueError('bad')`);
 *   ours is `"{Name}: {message}"`. {@link parseRemoteError} reads both.
 * - Python reads nothing of `kwargs` but `result`: our error results carry the error's data and
 *   cause chain in `kwargs.error_detail` (see `error-detail.ts`), which Python callers ignore.
 * - Our calls carry how long their caller waits in a top-level `lightbus` object,
 *   `{"lightbus": {"timeout_ms": 5000}}`, which Python servers ignore: a server that pops a call
 *   just pushed knows its deadline without reading the marker (see call-consumer.ts), and the
 *   caller's trace context (`traceparent`, `tracestate`: see trace-context.ts).
 */
import type { RpcCall, RpcResult } from '../types.js';
import { ERROR_LIMITS, boundText } from '../../error-data.js';
import { ERROR_DETAIL_KEY, decodeErrorDetail, encodeErrorDetail } from './error-detail.js';
import { toJsonValue } from './json-values.js';
import { traceFields, traceFromExtras } from './trace-context.js';

/** A blob that could not be decoded, with the reason in words (for logs). */
export interface Malformed {
  malformed: string;
}

/** The Redis list an API's calls are queued in. */
export function rpcQueueKey(api: string): string {
  return `${api}:rpc_queue`;
}

/** A call's marker lifetime when the call names no timeout (our callers always name one; Python's default). */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;

/** The key whose existence says a call has not expired yet. */
export function expiryMarkerKey(callId: string): string {
  return `rpc_expiry_key:${callId}`;
}

/**
 * The pub/sub channel on which callers withdraw calls to an API (the message is the call id).
 * Ours only: Python servers do not subscribe, and drop a withdrawn call still queued because
 * its marker is gone.
 */
export function cancelChannel(api: string): string {
  return `lightbus:rpc_cancel:${api}`;
}

/** The only return-path scheme on the Redis wire: the result goes to the list named after it. */
export const REDIS_RETURN_PATH_SCHEME = 'redis+key://';

/** `redis+key://{key}` for a result list. */
export function redisReturnPath(key: string): string {
  return REDIS_RETURN_PATH_SCHEME + key;
}

/** Longest result key accepted: ours and Python's are well under it; a caller may send anything. */
const MAX_RESULT_KEY_CHARS = 1000;
/** Python callers: `{api}.{proc}:result:{id}` (`lightbus/transports/redis/result.py`, `get_return_path`). */
const PYTHON_RESULT_KEY = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\.[A-Za-z_][A-Za-z0-9_]*:result:[A-Za-z0-9_-]+$/;
/** Ours: `lightbus:results:{service}:{process}:{12 hex digits}` (see the Redis result transport). */
const OUR_RESULT_KEY = /^lightbus:results:[^\r\n]+:[^\r\n]+:[0-9a-f]{12}$/;

/**
 * Why a key may not receive results, or undefined when it may. A caller names the key its
 * result goes to, and a server writes (and expires) it: only the result-key shapes are
 * accepted, so a call cannot make a server push to, or expire, a stream, a queue, `schemas`
 * or any key of an application. Neither shape can name another bus key: the id of a Python
 * key has no `:`, so `...:result:{id}` never ends in `:stream` or `:rpc_queue`.
 */
export function resultKeyRefusal(key: string): string | undefined {
  if (key.length > MAX_RESULT_KEY_CHARS) return `a result key is at most ${MAX_RESULT_KEY_CHARS} characters`;
  if (PYTHON_RESULT_KEY.test(key) || OUR_RESULT_KEY.test(key)) return undefined;
  return 'a result key reads {api}.{procedure}:result:{id} or lightbus:results:{service}:{process}:{random}';
}

/**
 * The result key a return path names, or why it is refused: another scheme, or a key that is
 * not of a result-key shape ({@link resultKeyRefusal}).
 */
export function checkReturnPath(returnPath: string, scheme: string = REDIS_RETURN_PATH_SCHEME): { key: string } | { refused: string } {
  if (!returnPath.startsWith(scheme) || returnPath.length === scheme.length) {
    return { refused: `this transport only delivers results to ${scheme}{key}` };
  }
  const key = returnPath.slice(scheme.length);
  const refused = resultKeyRefusal(key);
  return refused ? { refused } : { key };
}

/**
 * The result key of a return path, or an error naming the (shortened) path when
 * {@link checkReturnPath} refuses it.
 */
export function returnPathKey(returnPath: string, scheme: string = REDIS_RETURN_PATH_SCHEME): string {
  const checked = checkReturnPath(returnPath, scheme);
  if ('key' in checked) return checked.key;
  throw new Error(`Unsupported return path "${shortened(returnPath)}": ${checked.refused}`);
}

/** A caller-given text cut to a length fit for an error message or a log line. */
export function shortened(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}

/** The top-level field of our call blobs that Python readers skip (they read only `metadata` and `kwargs`). */
const CALL_EXTRAS_KEY = 'lightbus';
/** Longest call timeout read from a blob: a day. Longer (or not a positive number) is ignored. */
const MAX_CALL_TIMEOUT_MS = 86_400_000;

/**
 * Encodes a call as Python writes it: the four metadata fields and the kwargs, nothing else.
 * Values JSON cannot carry are converted first (see `toJsonValue`).
 *
 * @throws TypeError when the kwargs contain a reference cycle.
 */
export function encodeCall(call: RpcCall): string {
  const blob: Record<string, unknown> = {
    kwargs: toJsonValue(call.kwargs),
    metadata: {
      api_name: call.api,
      id: call.id,
      procedure_name: call.procedure,
      return_path: call.returnPath,
    },
  };
  if (call.timeoutMs !== undefined || call.trace !== undefined) {
    blob[CALL_EXTRAS_KEY] = call.trace === undefined ? { timeout_ms: call.timeoutMs } : { timeout_ms: call.timeoutMs, ...traceFields(call.trace) };
  }
  return JSON.stringify(blob);
}

/** The caller's timeout a blob carries, when it is a sane number; anything else is as if absent. */
function callTimeout(extras: unknown): number | undefined {
  if (!isPlainObject(extras)) return undefined;
  const timeout = extras['timeout_ms'];
  return typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 && timeout <= MAX_CALL_TIMEOUT_MS ? timeout : undefined;
}

/** Decodes a call blob; anything a Python server would also reject comes back as malformed. */
export function decodeCall(blob: string): RpcCall | Malformed {
  const envelope = parseEnvelope(blob);
  if ('malformed' in envelope) return envelope;
  const { metadata, kwargs, extras } = envelope;
  const missing = ['id', 'api_name', 'procedure_name', 'return_path'].filter((field) => !nonEmptyString(metadata[field]));
  if (missing.length > 0) return { malformed: `call metadata lacks a non-empty string ${missing.join(', ')}` };
  const call: RpcCall = {
    id: metadata['id'] as string,
    api: metadata['api_name'] as string,
    procedure: metadata['procedure_name'] as string,
    kwargs,
    returnPath: metadata['return_path'] as string,
  };
  const timeoutMs = callTimeout(extras);
  if (timeoutMs !== undefined) call.timeoutMs = timeoutMs;
  const trace = isPlainObject(extras) ? traceFromExtras(extras) : undefined;
  if (trace !== undefined) call.trace = trace;
  return call;
}

/**
 * Encodes a result as Python writes it; `trace` is only written for errors, and an undefined
 * result is written as null (Python's None).
 *
 * @throws TypeError when the result contains a reference cycle.
 */
export function encodeResult(result: RpcResult): string {
  const metadata: Record<string, unknown> = {
    error: result.error,
    id: result.id,
    rpc_message_id: result.rpcMessageId,
  };
  if (result.error) metadata['trace'] = result.trace ?? '';
  const kwargs: Record<string, unknown> = { result: toJsonValue(result.result) ?? null };
  if (result.error && result.errorDetail) kwargs[ERROR_DETAIL_KEY] = encodeErrorDetail(result.errorDetail);
  return JSON.stringify({ kwargs, metadata });
}

/** Decodes a result blob (ours or Python's). */
export function decodeResult(blob: string): RpcResult | Malformed {
  const envelope = parseEnvelope(blob);
  if ('malformed' in envelope) return envelope;
  const { metadata, kwargs } = envelope;
  const missing = ['id', 'rpc_message_id'].filter((field) => !nonEmptyString(metadata[field]));
  if (missing.length > 0) return { malformed: `result metadata lacks a non-empty string ${missing.join(', ')}` };
  const error = metadata['error'] ?? false;
  if (typeof error !== 'boolean') return { malformed: `result metadata "error" is ${JSON.stringify(error)}, not a boolean` };
  const trace = metadata['trace'];
  if (trace !== undefined && trace !== null && typeof trace !== 'string') {
    return { malformed: 'result metadata "trace" is not a string' };
  }
  const decoded: RpcResult = {
    id: metadata['id'] as string,
    rpcMessageId: metadata['rpc_message_id'] as string,
    result: kwargs['result'] ?? null,
    error,
  };
  // A peer's trace may be of any length: what a caller keeps of it is bounded.
  if (error && typeof trace === 'string') decoded.trace = boundText(trace, ERROR_LIMITS.stackChars);
  const errorDetail = error ? decodeErrorDetail(kwargs[ERROR_DETAIL_KEY], decoded.trace) : undefined;
  if (errorDetail) decoded.errorDetail = errorDetail;
  return decoded;
}

/** The `result` text our servers write for a failed call: `"{Name}: {message}"`. */
export function formatRemoteError(name: string, message: string): string {
  return `${name}: ${message}`;
}

const OUR_ERROR_FORM = /^([A-Za-z_$][\w$.]*): ([\s\S]*)$/;
const PYTHON_REPR_FORM = /^([A-Za-z_][\w.]*)\(([\s\S]*)\)$/;

/**
 * Rebuilds an error's name and message from the `result` text of an error result: either our
 * `"{Name}: {message}"` or Python's `repr` (`ValueError('bad value')`, `KeyError("x")`,
 * `ValueError()`, `Custom('a', 2)`). Anything else is an `Error` with the whole text as message.
 */
export function parseRemoteError(text: string): { name: string; message: string } {
  const ours = OUR_ERROR_FORM.exec(text);
  if (ours) return { name: ours[1]!, message: ours[2]! };
  const repr = PYTHON_REPR_FORM.exec(text.trim());
  if (repr) {
    const args = repr[2]!.trim();
    // A single string argument is the common case; several arguments stay as Python printed them.
    const single = parsePythonStringLiteral(args.endsWith(',') ? args.slice(0, -1).trimEnd() : args);
    return { name: repr[1]!, message: single ?? args };
  }
  return { name: 'Error', message: text };
}

/** The value of one Python string literal (`'...'` or `"..."`, as `repr` writes it), or null. */
function parsePythonStringLiteral(literal: string): string | null {
  const quote = literal[0];
  if ((quote !== "'" && quote !== '"') || literal.length < 2 || literal[literal.length - 1] !== quote) return null;
  let out = '';
  for (let i = 1; i < literal.length - 1; i++) {
    const ch = literal[i]!;
    if (ch === quote) return null; // an unescaped quote: more than one literal
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = literal[++i];
    if (next === undefined || i >= literal.length - 1) return null;
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
    if (next in simple) {
      out += simple[next];
      continue;
    }
    const width = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
    const hex = literal.slice(i + 1, i + 1 + width);
    if (width === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) {
      out += '\\' + next; // Python keeps unknown escapes as written
      continue;
    }
    out += String.fromCodePoint(parseInt(hex, 16));
    i += width;
  }
  return out;
}

function parseEnvelope(blob: string): { metadata: Record<string, unknown>; kwargs: Record<string, unknown>; extras: unknown } | Malformed {
  let decoded: unknown;
  try {
    decoded = JSON.parse(blob);
  } catch (error) {
    return { malformed: `not JSON (${(error as Error).message})` };
  }
  if (!isPlainObject(decoded)) return { malformed: 'not a JSON object' };
  const metadata = decoded['metadata'];
  if (!isPlainObject(metadata)) return { malformed: 'no "metadata" object' };
  const kwargs = decoded['kwargs'] ?? {};
  if (!isPlainObject(kwargs)) return { malformed: '"kwargs" is not an object' };
  return { metadata, kwargs, extras: decoded[CALL_EXTRAS_KEY] };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
