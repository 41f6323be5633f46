/**
 * A set that remembers at most `capacity` entries, forgetting the least recently seen first:
 * for "log this once per X" where X comes from outside and may take unboundedly many values.
 */
export class RecentSet {
  private readonly entries = new Set<string>();

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('a RecentSet holds at least one entry');
  }

  /** Adds `entry`; true when it was not remembered already. Either way it becomes the most recent. */
  add(entry: string): boolean {
    const known = this.entries.delete(entry);
    this.entries.add(entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.values().next().value!);
    return !known;
  }

  has(entry: string): boolean {
    return this.entries.has(entry);
  }

  get size(): number {
    return this.entries.size;
  }
}
