/**
 * The dead-letter stream (config `events.deadLetterStream`): entries a listener gave up on,
 * each with the stream and id it came from, the group, the reason and the original field
 * list (`encodeDeadLetter` in the wire codec). Listing reads it newest first; `replay` hands
 * the original entry to the group that gave up (or back to its stream, for every group) and
 * `delete` drops it.
 */
import type { RedisConnection } from '../transport/redis/connection.js';
import { withScripts } from '../transport/redis/scripts.js';
import { decodeEvent, isMalformed } from '../transport/wire/events.js';
import { globToRegExp, matchesMember, type MemberPattern } from './patterns.js';
import { isStreamId } from './time.js';
import { replayStreamKey } from '../transport/replay-stream.js';
import { isCluster, replayAcrossSlots } from './replay-across-slots.js';
import type { ProcessInfo } from '../transport/types.js';

/** A dead letter as shown. */
export interface DeadLetterRow {
  /** Its id in the dead-letter stream: what `replay` and `delete` take. */
  id: string;
  /** When it was dead-lettered, ISO-8601. */
  time: string;
  /** Where it came from, and its id there. */
  stream: string;
  streamId: string;
  group: string;
  reason: string;
  /** The original entry's flat field list, as it will be replayed. */
  fields: string[];
  /** The original event, when its fields read as one. */
  api?: string;
  event?: string;
  messageId?: string;
  params?: Record<string, unknown>;
  /** Why the original fields are not a readable event (replaying them would fail again). */
  malformed?: string;
}

/** What listing shows. */
export interface DeadLetterFilter {
  patterns: readonly MemberPattern[];
  /** Glob over the group that gave up. */
  group?: string;
}

/** No dead letter has this id (it may have been replayed or deleted already). */
export class DeadLetterNotFoundError extends Error {
  override name = 'DeadLetterNotFoundError';
}

/** The dead letter cannot be replayed (its entry is unreadable). */
export class DeadLetterUnreplayableError extends Error {
  override name = 'DeadLetterUnreplayableError';
}

const PAGE = 200;

/** Reads one dead-letter entry; undefined when it lacks the fields every dead letter has. */
export function decodeDeadLetter(id: string, flat: readonly string[]): DeadLetterRow | undefined {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
  const stream = f.get('stream');
  const streamId = f.get('stream_id');
  if (!stream || !streamId) return undefined;
  let fields: string[] = [];
  let malformed: string | undefined;
  try {
    const decoded = JSON.parse(f.get('fields') ?? '') as unknown;
    if (!Array.isArray(decoded) || !decoded.every((v) => typeof v === 'string')) throw new Error('not an array of strings');
    fields = decoded;
  } catch (error) {
    malformed = `its "fields" cannot be read: ${(error as Error).message}`;
  }
  const row: DeadLetterRow = {
    id,
    time: f.get('time') ?? new Date(Number(id.split('-')[0])).toISOString(),
    stream,
    streamId,
    group: f.get('group') ?? '',
    reason: f.get('reason') ?? '',
    fields,
  };
  if (malformed !== undefined) return { ...row, malformed };
  const event = decodeEvent(fields);
  if (isMalformed(event)) return { ...row, malformed: event.malformed };
  return { ...row, api: event.api, event: event.event, messageId: event.id, params: event.kwargs };
}

/** The newest `limit` dead letters passing the filter, newest first. */
export async function listDeadLetters(redis: RedisConnection, deadLetterStream: string, filter: DeadLetterFilter, limit: number): Promise<DeadLetterRow[]> {
  const group = filter.group === undefined ? undefined : globToRegExp(filter.group);
  const rows: DeadLetterRow[] = [];
  let end = '+';
  // Bounded by the stream's length: every page moves `end` past what it read.
  while (rows.length < limit) {
    const page = (await redis.xrevrange(deadLetterStream, end, '-', 'COUNT', PAGE)) as Array<[string, string[]]>;
    for (const [id, flat] of page) {
      const row = decodeDeadLetter(id, flat);
      if (!row || (group && !group.test(row.group))) continue;
      if (filter.patterns.length > 0 && (row.api === undefined || !matchesMember(filter.patterns, row.api, row.event!))) continue;
      rows.push(row);
      if (rows.length >= limit) break;
    }
    if (page.length < PAGE) break;
    end = `(${page[page.length - 1]![0]}`;
  }
  return rows;
}

/** One dead letter by id. @throws DeadLetterNotFoundError */
export async function getDeadLetter(redis: RedisConnection, deadLetterStream: string, id: string): Promise<DeadLetterRow> {
  checkDeadLetterId(id);
  const [entry] = (await redis.xrange(deadLetterStream, id, id)) as Array<[string, string[]]>;
  const row = entry && decodeDeadLetter(entry[0], entry[1]);
  if (!row) throw new DeadLetterNotFoundError(`no dead letter ${id} in ${deadLetterStream}`);
  return row;
}

/** What a replay did. */
export interface Replayed {
  /** The dead letter's id (now deleted). */
  id: string;
  /** Where the entry went: the group's replay stream, or the original stream for every group. */
  stream: string;
  /** The id of the new entry there. */
  streamId: string;
  /** The one group that gets it again; null when every group of the original stream does. */
  group: string | null;
}

export interface ReplayOptions {
  maxStreamLength: number | null;
  /** Replay even an entry that is not a readable event. */
  force?: boolean;
  /** Put it back on its original stream, for every group of that stream (the only way for a Python Lightbus group). */
  allGroups?: boolean;
  /** The groups of the listeners in the heartbeats (`{service}-{listener}`): only they read replay streams. */
  listeningGroups?: ReadonlySet<string>;
}

/**
 * Replays a dead letter, then deletes it. By default only the group that gave up gets it
 * again, through its replay stream, which only this runtime's listeners read: the group must
 * be among `listeningGroups`. With `allGroups` the original entry goes back at the end of its
 * stream, as a new entry, and every consumer group of the stream gets it again.
 *
 * @throws DeadLetterNotFoundError, or DeadLetterUnreplayableError for an entry that is not a
 *   readable event (unless `force`; an entry without fields never replays) or a group that no
 *   lightbus process listens as.
 */
export async function replayDeadLetter(redis: RedisConnection, deadLetterStream: string, id: string, options: ReplayOptions): Promise<Replayed> {
  const letter = await getDeadLetter(redis, deadLetterStream, id);
  if (letter.fields.length === 0 || letter.fields.length % 2 !== 0) {
    throw new DeadLetterUnreplayableError(`dead letter ${id} cannot be replayed: ${letter.malformed ?? 'it holds no fields'}`);
  }
  if (letter.malformed !== undefined && !options.force) {
    throw new DeadLetterUnreplayableError(`dead letter ${id} is not a readable event (${letter.malformed}); replaying it would only fail again (--force replays it anyway)`);
  }
  const maxLength = options.maxStreamLength === null ? '' : String(options.maxStreamLength);
  let replayed: Omit<Replayed, 'streamId'> & { streamId: string | null };
  if (options.allGroups) {
    // lua/replay-dead-letter.lua: appended and deleted in one step, so only one replay succeeds.
    const streamId = isCluster(redis)
      ? await replayAcrossSlots(redis, deadLetterStream, id, letter.stream, letter.fields, maxLength)
      : await withScripts(redis).lightbusReplayDeadLetter(deadLetterStream, letter.stream, id, maxLength);
    replayed = { id, stream: letter.stream, streamId, group: null };
  } else {
    const group = letter.group;
    if (group === '' || !options.listeningGroups?.has(group)) {
      throw new DeadLetterUnreplayableError(
        `dead letter ${id} is of group "${group}", which no lightbus process on the bus listens as: only lightbus (TypeScript) listeners read replays for one group. ` +
          `Start its service and replay again, or replay it to every group of ${letter.stream} with --all-groups (a Python Lightbus group needs that).`,
      );
    }
    const stream = replayStreamKey(group);
    // lua/replay-dead-letter-to-group.lua: the group is created on the replay stream before anything is written.
    const streamId = isCluster(redis)
      ? await replayAcrossSlots(redis, deadLetterStream, id, stream, letter.fields, maxLength, group)
      : await withScripts(redis).lightbusReplayDeadLetterToGroup(deadLetterStream, stream, id, maxLength, group);
    replayed = { id, stream, streamId, group };
  }
  if (replayed.streamId === null) throw new DeadLetterNotFoundError(`no dead letter ${id} in ${deadLetterStream} (replayed or deleted meanwhile)`);
  return replayed as Replayed;
}

/** The consumer groups of the listeners in these heartbeats. */
export function listeningGroups(processes: readonly ProcessInfo[]): Set<string> {
  return new Set(processes.flatMap((p) => p.listeners.map((listener) => `${p.service}-${listener}`)));
}

/** Deletes a dead letter. @throws DeadLetterNotFoundError */
export async function deleteDeadLetter(redis: RedisConnection, deadLetterStream: string, id: string): Promise<void> {
  checkDeadLetterId(id);
  if ((await redis.xdel(deadLetterStream, id)) === 0) throw new DeadLetterNotFoundError(`no dead letter ${id} in ${deadLetterStream}`);
}

/** @throws TypeError when `id` is not shaped like a stream id. */
export function checkDeadLetterId(id: string): void {
  if (!isStreamId(id)) throw new TypeError(`"${id}" is not a dead-letter id: it looks like 1714557600000-0 (the ID column of inspect dead-letters)`);
}
