/** Bounded waiting for tests: poll a condition, fail with a message when time runs out. */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 5000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A name no other test run uses: `t_1a2b3c4d`. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}
