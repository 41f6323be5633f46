/**
 * Replays for one consumer group only. A dead letter put back on its event stream reaches
 * every group of that stream; `inspect dead-letters replay` instead appends it to a stream of
 * the group that gave up, `lightbus:replay:{group}`, and creates that group on it. The
 * group's consumers (this runtime's, not Python Lightbus's) look for the stream on a slow
 * timer and, once it exists, read it with the same XREADGROUP as their event streams, so it
 * costs nothing per event.
 *
 * No `:stream` suffix: `inspect` finds event streams by that suffix, and this is not one.
 * Not part of the Python wire contract.
 */

/** How often a consumer that has no replay stream yet looks for one. */
export const REPLAY_CHECK_MS = 5000;

export function replayStreamKey(group: string): string {
  return `lightbus:replay:${group}`;
}
