/**
 * Time bounds as operators type them (`--since 10m`, `--until 2025-05-01T10:00:00Z`) and as
 * stream ids carry them: an entry's id starts with the Unix milliseconds it was added at.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const STREAM_ID = /^(\d+)(?:-(\d+))?$/;

/**
 * A point in time in Unix milliseconds, from: a duration ago (`90s`, `10m`, `2h`, `1d`, `1w`,
 * `500ms`), an ISO-8601 date or time (`2025-05-01`, `2025-05-01T10:00:00Z`), or a stream id /
 * Unix milliseconds (`1714557600000-0`, `1714557600000`).
 *
 * @throws TypeError naming what was accepted.
 */
export function parseTimeBound(text: string, now: number = Date.now()): number {
  const trimmed = text.trim();
  const relative = RELATIVE.exec(trimmed);
  if (relative) return now - Math.round(Number(relative[1]) * UNITS[relative[2]!]!);
  const id = STREAM_ID.exec(trimmed);
  if (id) return Number(id[1]);
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (Number.isFinite(ms)) return ms;
  }
  throw new TypeError(
    `"${text}" is not a time: give a duration ago (30s, 10m, 2h, 1d), an ISO date or time (2025-05-01T10:00:00Z) or a stream id`,
  );
}

/** The Unix milliseconds a stream id was written at. */
export function streamIdTime(streamId: string): number {
  return splitId(streamId)[0];
}

/** Orders stream ids (`ms-seq`) as Redis does; negative when `a` is older. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  return aMs === bMs ? aSeq - bSeq : aMs - bMs;
}

/** Whether a text is a stream id (`1714557600000-0`) rather than a message id (a UUID). */
export function isStreamId(text: string): boolean {
  return /^\d+-\d+$/.test(text);
}

function splitId(id: string): [number, number] {
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}
