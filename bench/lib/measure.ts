/**
 * Small measuring helpers shared by the scenarios: percentiles, wall-clock time that can be
 * compared across processes, and bounded waits (every wait in the benchmark has a timeout).
 */
import { performance } from 'node:perf_hooks';

/** Summary of a set of latency samples, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentile of samples already sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, x) => total + x, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sum / Math.max(1, sorted.length),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Used where a time taken in one
 * process is compared with a time taken in another (on the same machine): `Date.now()` would
 * add up to 1 ms of rounding to each side.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Times `count` sequential runs of `fn`, one sample (ms) per run. */
export async function timeSerial(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn(i);
    samples[i] = performance.now() - start;
  }
  return samples;
}

/**
 * Runs `fn` from `inFlight` concurrent loops until `durationMs` has passed; returns how many
 * runs completed and over how long (from the start to the last completion).
 */
export async function runConcurrently(inFlight: number, durationMs: number, fn: () => Promise<unknown>): Promise<{ completed: number; elapsedMs: number }> {
  const start = performance.now();
  const deadline = start + durationMs;
  let completed = 0;
  let last = start;
  const loop = async () => {
    while (performance.now() < deadline) {
      await fn();
      completed++;
      last = performance.now();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  return { completed, elapsedMs: last - start };
}

/** Rejects with `what` timed out when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rounds for display and for results.json (keeps 3 significant decimals for small values). */
export function round(value: number, decimals = 3): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
