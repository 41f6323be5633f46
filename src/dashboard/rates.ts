/**
 * Fired and handled per second over the last minutes, from counters sampled at each poll:
 * a stream's `entries-added` (fired) and a group's entries read less those still pending
 * (handled). Counters, not events, so the dashboard needs no consumer group of its own and
 * sees every event whatever reads it.
 */

/** One point of a series: when, and the rate since the point before. */
export interface RatePoint {
  /** Unix ms. */
  t: number;
  perSecond: number;
}

interface Series {
  lastCount: number;
  lastAt: number;
  points: RatePoint[];
  seenAt: number;
}

/** Rates per key (a stream, a group), each keeping `windowMs` of points; bounded by `maxKeys`. */
export class RateHistory {
  private readonly series = new Map<string, Series>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  /** Records a counter's value; the first sample of a key only sets its baseline. */
  sample(key: string, count: number, now: number): void {
    const known = this.series.get(key);
    if (!known) {
      if (this.series.size >= this.maxKeys) return;
      this.series.set(key, { lastCount: count, lastAt: now, points: [], seenAt: now });
      return;
    }
    known.seenAt = now;
    const seconds = (now - known.lastAt) / 1000;
    if (seconds <= 0) return;
    // A counter going down (stream deleted and made again, group reset) is a new baseline.
    const perSecond = count >= known.lastCount ? (count - known.lastCount) / seconds : 0;
    known.points.push({ t: now, perSecond: Math.round(perSecond * 100) / 100 });
    known.lastCount = count;
    known.lastAt = now;
    const oldest = now - this.windowMs;
    while (known.points.length > 0 && known.points[0]!.t < oldest) known.points.shift();
  }

  /** Forgets keys not sampled within the window (their stream or group is gone). */
  prune(now: number): void {
    for (const [key, s] of this.series) if (now - s.seenAt > this.windowMs) this.series.delete(key);
  }

  points(key: string): RatePoint[] {
    return this.series.get(key)?.points ?? [];
  }
}
