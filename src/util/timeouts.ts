/**
 * Bounded waits, the one copy for the whole package: closing and draining (`settleWithin`),
 * failing a wait that takes too long (`withTimeout`), and pauses that a stop cuts short (`sleep`).
 */

/**
 * Resolves true when `promise` settles within `timeoutMs`, false otherwise. Its rejection is
 * consumed either way, so work abandoned at close never becomes an unhandled rejection.
 */
export function settleWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

/**
 * `promise`'s outcome, or a rejection with `onTimeout()` once `timeoutMs` passed first. The
 * error is made only then: building its message may cost something (a redacted URL, a list).
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`, or at once when `signal` is (or becomes) aborted: a stop never waits out a pause. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
