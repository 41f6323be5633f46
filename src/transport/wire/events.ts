/**
 * The event wire codec: stream names, the flat field list of a stream entry, noop entries,
 * dead-letter entries and `since` values, exactly as docs/wire-format.md
 * ("Events") describes them. Pure: no I/O, shared by the Redis and the memory transport.
 */
import type { EventMessage, Since } from '../types.js';
import { toJsonValue } from './json-values.js';
import { decodeEventTrace, encodeEventTrace, EVENT_TRACE_FIELD } from './trace-context.js';

/** How events map to streams: one stream per API (the default) or one per event. */
export type StreamLayout = 'per_api' | 'per_event';

/** The metadata fields of an event entry; Python readers reject any other unprefixed field. */
const METADATA_FIELDS = ['id', 'api_name', 'event_name', 'version'] as const;

/**
 * The stream an event is written to with Python's key names: `{api}.*:stream` (per_api, a
 * literal `*`) or `{api}.{event}:stream`. Transports name streams through key-layout.ts.
 */
export function streamKey(api: string, event: string, layout: StreamLayout): string {
  return layout === 'per_event' ? `${api}.${event}:stream` : `${api}.*:stream`;
}

/**
 * The flat field/value list of an `XADD`: `id`, `api_name`, `event_name`, `version` (decimal
 * text), then `:{param}` = the parameter's JSON, then, for a traced event, its trace context in
 * a field with an empty name, which Python readers skip (trace-context.ts). Nothing else, so
 * Python readers accept it. Parameters whose value converts to nothing (`undefined`, a
 * function) are left out.
 */
export function encodeEvent(message: EventMessage): string[] {
  const fields = ['id', message.id, 'api_name', message.api, 'event_name', message.event, 'version', String(message.version)];
  for (const [name, value] of Object.entries(message.kwargs)) {
    const json = JSON.stringify(toJsonValue(value));
    if (json !== undefined) fields.push(`:${name}`, json);
  }
  if (message.trace !== undefined) fields.push(EVENT_TRACE_FIELD, encodeEventTrace(message.trace));
  return fields;
}

/** Why an entry could not be decoded, for logs and the dead-letter stream. */
export interface MalformedEntry {
  malformed: string;
}

/**
 * Reads an entry's flat field list back into an event. A field with an empty name carries the
 * trace context (kept only when valid) and unknown metadata fields are ignored (a lenient
 * reader); a missing or empty `id`/`api_name`/`event_name`, a `version` that is not a
 * non-negative integer, or a parameter that is not valid JSON makes the entry malformed. A
 * missing `version` reads as 1.
 */
export function decodeEvent(fields: readonly string[]): EventMessage | MalformedEntry {
  if (fields.length % 2 !== 0) return { malformed: `odd number of field/value items (${fields.length})` };
  // Plain locals rather than a Map of metadata: this runs for every event a listener reads.
  let id: string | undefined;
  let api: string | undefined;
  let event: string | undefined;
  let versionText: string | undefined;
  let trace: string | undefined;
  const kwargs: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name === EVENT_TRACE_FIELD) {
      if (value !== '') trace = value;
      continue;
    }
    if (name.charCodeAt(0) === COLON) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return { malformed: `parameter ${JSON.stringify(name.slice(1))} is not valid JSON: ${preview(value)}` };
      }
      const key = name.slice(1);
      // `kwargs.__proto__ = x` would set the prototype instead of adding a parameter.
      if (key === '__proto__') Object.defineProperty(kwargs, key, { value: parsed, enumerable: true, writable: true, configurable: true });
      else kwargs[key] = parsed;
    } else if (name === 'id') id = value;
    else if (name === 'api_name') api = value;
    else if (name === 'event_name') event = value;
    else if (name === 'version') versionText = value;
  }
  if (!id) return missing('id');
  if (!api) return missing('api_name');
  if (!event) return missing('event_name');
  if (versionText !== undefined && !/^\d{1,15}$/.test(versionText)) {
    return { malformed: `version ${preview(versionText)} is not a non-negative integer` };
  }
  const decoded: EventMessage = { id, api, event, version: versionText === undefined ? 1 : Number(versionText), kwargs };
  const headers = trace === undefined ? undefined : decodeEventTrace(trace);
  if (headers !== undefined) decoded.trace = headers;
  return decoded;
}

const COLON = 58;

function missing(field: (typeof METADATA_FIELDS)[number]): MalformedEntry {
  return { malformed: `metadata field ${JSON.stringify(field)} is missing or empty` };
}

/** Whether {@link decodeEvent} gave up on the entry. */
export function isMalformed(decoded: EventMessage | MalformedEntry): decoded is MalformedEntry {
  return 'malformed' in decoded;
}

/** The fields of a noop entry: one field with an empty name and an empty value. */
export const NOOP_FIELDS: readonly string[] = Object.freeze(['', '']);

/** Whether an entry is a noop (written only to create a stream; every reader skips it). */
export function isNoop(fields: readonly string[]): boolean {
  return fields.length === 2 && fields[0] === '' && fields[1] === '';
}

/** What an entry turns out to be for a consumer that wants some events of the stream. */
export type ClassifiedEntry =
  | { kind: 'event'; message: EventMessage }
  | { kind: 'noop' }
  | { kind: 'unwanted'; message: EventMessage }
  | { kind: 'malformed'; reason: string };

/**
 * Sorts an entry into deliver / skip (noop, not listened for) / dead-letter. With `readFrom`,
 * an event that belongs on another stream than `streamOf` names for it (another API; with
 * `per_event`, another event) is
 * malformed: no listener of this stream can ever want it, so skipping it would lose it
 * without a trace. An event of the stream's own API that this consumer does not listen for is
 * skipped, as Python Lightbus does: another listener of the API may want it.
 */
export function classifyEntry(
  fields: readonly string[],
  wants: (api: string, event: string) => boolean,
  readFrom?: { stream: string; streamOf: (api: string, event: string) => string },
): ClassifiedEntry {
  if (isNoop(fields)) return { kind: 'noop' };
  const decoded = decodeEvent(fields);
  if (isMalformed(decoded)) return { kind: 'malformed', reason: decoded.malformed };
  if (readFrom && readFrom.streamOf(decoded.api, decoded.event) !== readFrom.stream) {
    const named = preview(`${decoded.api}.${decoded.event}`);
    return { kind: 'malformed', reason: `the entry names event ${named}, which does not belong on this stream` };
  }
  return wants(decoded.api, decoded.event) ? { kind: 'event', message: decoded } : { kind: 'unwanted', message: decoded };
}

/** One entry of the dead-letter stream. */
export interface DeadLetter {
  /** The stream the entry came from. */
  stream: string;
  /** Its native id there. */
  streamId: string;
  group: string;
  reason: string;
  /** The original flat field list. */
  fields: readonly string[];
  time: Date;
}

/** The flat field list of a dead-letter entry: `stream`, `stream_id`, `group`, `reason`, `fields` (JSON array), `time` (ISO). */
export function encodeDeadLetter(letter: DeadLetter): string[] {
  return [
    'stream', letter.stream,
    'stream_id', letter.streamId,
    'group', letter.group,
    'reason', letter.reason,
    'fields', JSON.stringify(letter.fields),
    'time', letter.time.toISOString(),
  ];
}

const STREAM_ID = /^\d+(-\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * The start of a new consumer group as Redis takes it: `$`, `0`, a stream id unchanged, a
 * `Date` (or the ISO-8601 text of one) as `{unix ms}-0`. The start is exclusive, as in Python.
 *
 * @throws TypeError naming the value when it is none of these.
 */
export function sinceToStreamId(since: Since): string {
  if (since instanceof Date) return dateToStreamId(since, since);
  if (typeof since === 'string') {
    if (since === '$' || STREAM_ID.test(since)) return since;
    if (ISO_DATE.test(since)) return dateToStreamId(new Date(since), since);
  }
  throw new TypeError(
    `Invalid since value ${describe(since)}: expected '$', '0', a stream id such as '1700000000000-0', a Date or an ISO-8601 date string`,
  );
}

function dateToStreamId(date: Date, original: unknown): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`Invalid since value ${describe(original)}: not a valid date on or after 1970-01-01`);
  return `${ms}-0`;
}

function describe(value: unknown): string {
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()})`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
