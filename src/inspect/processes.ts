/**
 * The processes on the bus, from their heartbeats (`lightbus:processes`): each says how often
 * it beats, so a process that missed a few beats is marked silent rather than trusted.
 */
import { heartbeatAgeMs, isLive } from '../transport/liveness.js';
import type { PresenceTransport, ProcessInfo } from '../transport/types.js';
import { globToRegExp } from './patterns.js';

export { SILENT_AFTER_BEATS } from '../transport/liveness.js';

/** A heartbeat with what a reader concludes from it. */
export interface ProcessRow extends ProcessInfo {
  status: 'live' | 'silent';
  /** Since the last heartbeat. */
  lastSeenAgoMs: number;
  /** Since the process started (as of its last heartbeat for a silent one). */
  uptimeMs: number;
}

/** Live or silent by the rule of `transport/liveness.ts`. */
export function describeProcess(info: ProcessInfo, now: number): ProcessRow {
  const lastSeen = Date.parse(info.lastSeen);
  const lastSeenAgoMs = heartbeatAgeMs(info, now);
  const live = isLive(info, now);
  return {
    ...info,
    status: live ? 'live' : 'silent',
    lastSeenAgoMs,
    uptimeMs: Math.max(0, (live ? now : lastSeen) - Date.parse(info.startedAt)),
  };
}

/** Filters on the process list; globs with `*`. */
export interface ProcessFilter {
  service?: string;
  status?: 'live' | 'silent';
}

/** Every process with a heartbeat, by service then process name. */
export async function listProcesses(presence: PresenceTransport, filter: ProcessFilter = {}, now: number = Date.now()): Promise<ProcessRow[]> {
  const service = filter.service === undefined ? undefined : globToRegExp(filter.service);
  return (await presence.list())
    .map((info) => describeProcess(info, now))
    .filter((row) => (service === undefined || service.test(row.service)) && (filter.status === undefined || row.status === filter.status));
}
