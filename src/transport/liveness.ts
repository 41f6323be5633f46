/**
 * When a heartbeat still counts as a live process: each says how often it beats, so a reader
 * trusts it for a few missed beats and no longer. One rule for `lightbus inspect` (live or
 * silent) and for a caller deciding whether anyone serves an API.
 */
import type { ProcessInfo } from './types.js';

/** Missed beats after which a process counts as silent (it may be stopped, hung or cut off). */
export const SILENT_AFTER_BEATS = 3;

/** The interval assumed for a heartbeat that gives none usable. */
const DEFAULT_INTERVAL_MS = 5000;

/** How long ago the heartbeat was written, never negative (clocks of two hosts differ). */
export function heartbeatAgeMs(info: Pick<ProcessInfo, 'lastSeen'>, now: number): number {
  return Math.max(0, now - Date.parse(info.lastSeen));
}

/** Live while the last beat is younger than {@link SILENT_AFTER_BEATS} intervals. */
export function isLive(info: Pick<ProcessInfo, 'lastSeen' | 'intervalMs'>, now: number): boolean {
  const interval = info.intervalMs > 0 ? info.intervalMs : DEFAULT_INTERVAL_MS;
  return heartbeatAgeMs(info, now) <= SILENT_AFTER_BEATS * interval;
}
