/**
 * The stream entries a consumer keeps track of (handed out, being acknowledged), keyed by
 * stream and then by stream id. Ids arrive from Redis as strings already hashed once; a key
 * made of stream and id would be a new string to build and hash for every entry, twice per
 * entry on a listener's hot path.
 */
export class EntriesByStream<V> {
  private readonly streams = new Map<string, Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(stream: string, streamId: string): V | undefined {
    return this.streams.get(stream)?.get(streamId);
  }

  has(stream: string, streamId: string): boolean {
    return this.streams.get(stream)?.has(streamId) ?? false;
  }

  set(stream: string, streamId: string, value: V): void {
    let entries = this.streams.get(stream);
    // Inner maps stay once made: a consumer reads a fixed, small set of streams.
    if (!entries) this.streams.set(stream, (entries = new Map()));
    if (!entries.has(streamId)) this.count++;
    entries.set(streamId, value);
  }

  delete(stream: string, streamId: string): boolean {
    if (!this.streams.get(stream)?.delete(streamId)) return false;
    this.count--;
    return true;
  }

  /** The ids held now, per stream (copies: the caller may await while entries come and go). */
  idsByStream(): Array<[string, string[]]> {
    const out: Array<[string, string[]]> = [];
    for (const [stream, entries] of this.streams) if (entries.size > 0) out.push([stream, [...entries.keys()]]);
    return out;
  }
}
