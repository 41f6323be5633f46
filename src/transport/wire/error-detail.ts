/**
 * The structured part of an error result: the error's name, message, data and cause chain,
 * carried in `kwargs.error_detail` beside the short text in `kwargs.result`.
 *
 * Why there: Python Lightbus builds a result with `ResultMessage(**metadata, ...,
 * result=kwargs.get("result"))` (`lightbus/message.py`), so a metadata field it does not know
 * breaks a Python caller, while a kwargs key other than `result` is never read. A Python caller
 * keeps showing `result` (our `"{Name}: {message}"`) and `metadata.trace`; a Python server
 * never writes the key, and its errors are rebuilt from `result` and `trace` as before.
 *
 * The top level carries no stack: that is `metadata.trace`, which Python callers show too.
 * A peer may send anything here, of any size: {@link decodeErrorDetail} keeps only a well-formed
 * detail and bounds every part of it ({@link ERROR_LIMITS}).
 */
import { ERROR_LIMITS, boundText, boundedJson, isPlainRecord } from '../../error-data.js';
import type { SerializedError } from '../../errors.js';

/** The kwargs key of the detail. */
export const ERROR_DETAIL_KEY = 'error_detail';

/** The detail as it is written: the error without its top-level stack (`metadata.trace` has it). */
export function encodeErrorDetail(error: SerializedError): SerializedError {
  const { stack: _stack, ...detail } = error;
  return detail;
}

/**
 * The detail of a result as read from the wire, bounded, with `trace` as its stack; undefined
 * when there is none or it is not an object with a string `name` and `message`.
 */
export function decodeErrorDetail(raw: unknown, trace: string | undefined): SerializedError | undefined {
  const detail = readError(raw, 0);
  if (detail && trace !== undefined) detail.stack = trace;
  return detail;
}

function readError(raw: unknown, depth: number): SerializedError | undefined {
  if (!isPlainRecord(raw) || typeof raw['name'] !== 'string' || typeof raw['message'] !== 'string') return undefined;
  const error: SerializedError = {
    name: boundText(raw['name'], 200),
    message: boundText(raw['message'], ERROR_LIMITS.messageChars),
  };
  if (depth > 0 && typeof raw['stack'] === 'string') error.stack = boundText(raw['stack'], ERROR_LIMITS.stackChars);
  const data = boundedJson(raw['data']);
  if (isPlainRecord(data)) error.data = data;
  if (depth < ERROR_LIMITS.causeDepth) {
    const cause = readError(raw['cause'], depth + 1);
    if (cause) error.cause = cause;
  }
  return error;
}
