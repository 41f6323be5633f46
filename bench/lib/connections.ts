/**
 * The Redis connections one process holds, counted from each redis-server's side: `CLIENT
 * LIST` on every node, matched to the process by the client's local port (the process's
 * socket inodes in /proc/<pid>/fd, their ports in /proc/net/tcp). Linux only. Grouped by the
 * connection name lightbus gives each client (`lightbus:{role}`), so docs/scaling.md can say
 * what each costs.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Redis } from 'ioredis';

export interface NodeConnections {
  port: number;
  total: number;
  /** Connection name (its per-stream or per-queue suffix cut off) → how many. */
  byRole: Record<string, number>;
}

/** The local TCP ports of `pid`'s sockets. */
function localPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // Closed between the listing and the read.
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (inodes.has(fields[9]!)) ports.add(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** A role without the API, group, queue or stream it names: `events:svc-counter:bench.*:stream` → `events:<group>:<stream>`. */
function roleOf(name: string): string {
  // ioredis names a cluster client's subscriber connection after the client.
  const subscriber = name.startsWith('ioredis-cluster(subscriber):');
  if (subscriber) return `(subscriber) ${roleOf(name.slice('ioredis-cluster(subscriber):'.length))}`;
  const role = name.replace(/^lightbus:/, '');
  if (role === '') return '(unnamed)';
  const [kind, ...rest] = role.split(':');
  if (kind === 'events' && rest.length >= 2) return 'events:<group>:<stream>';
  if (kind === 'events' && rest.length === 1) return 'events:<group>';
  if (kind === 'rpc' && rest[0] === 'block') return 'rpc:block:<queue>';
  if (kind === 'rpc' && rest[0] === 'consume') return 'rpc:consume:<apis>';
  return role;
}

/** `pid`'s connections on each of the redis-servers listening on `ports` (127.0.0.1). */
export async function connectionsOf(pid: number, ports: number[]): Promise<NodeConnections[]> {
  const mine = localPortsOf(pid);
  const out: NodeConnections[] = [];
  for (const port of ports) {
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const list = String(await redis.client('LIST'));
      const byRole: Record<string, number> = {};
      let total = 0;
      for (const line of list.split('\n')) {
        const addr = / addr=\S+:(\d+) /.exec(line);
        if (!addr || !mine.has(Number(addr[1]))) continue;
        const role = roleOf(/ name=(\S*)/.exec(line)?.[1] ?? '');
        byRole[role] = (byRole[role] ?? 0) + 1;
        total++;
      }
      out.push({ port, total, byRole });
    } finally {
      redis.disconnect();
    }
  }
  return out;
}
