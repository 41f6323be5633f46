/**
 * Many one-key commands at once, each reply (or error) in order as a pipeline gives them, but
 * sent as separate commands: on a Redis Cluster a pipeline must stay within one slot, and
 * inspect reads keys from every master. They still leave together, so the cost stays about one
 * round trip per node.
 */
export type Replies = Array<[Error | null, unknown]>;

export async function eachKey<T>(items: readonly T[], send: (item: T) => Promise<unknown>): Promise<Replies> {
  const settled = await Promise.allSettled(items.map(send));
  return settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [s.reason instanceof Error ? s.reason : new Error(String(s.reason)), undefined]));
}
