/**
 * Private Redis topologies for tests, on free loopback ports, stopped by pid (never by name):
 * a Redis Cluster of 3 masters (optionally a replica each, for failovers), made with
 * `redis-cli --cluster create`, and a Sentinel setup (a master, a replica, one sentinel with
 * quorum 1). Start one per test file: a cluster takes about a second to form.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis, type ClusterOptions } from 'ioredis';
import { answersPing, freePort } from './redis-server.js';

const POLL_MS = 100;
const FORM_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3000;

/** One redis-server (or sentinel) process of a topology. */
export interface TopologyNode {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** SIGKILL, then wait for the exit: a crash. */
  kill(): Promise<void>;
}

export interface RedisCluster {
  /** Every node's `redis://127.0.0.1:{port}`, masters first as created. */
  readonly nodes: TopologyNode[];
  /** The URLs for `redis.cluster.nodes`. */
  readonly urls: string[];
  /** The node serving `key`'s slot now (asks CLUSTER NODES / KEYSLOT). */
  masterOf(key: string): Promise<TopologyNode>;
  /** Names of the clients connected to `node` now; with `blocked`, only those blocked (in BLPOP, XREAD BLOCK...). */
  clientNames(node: TopologyNode, options?: { blocked?: boolean }): Promise<string[]>;
  /** `count` fresh names (`{prefix}_{random}`) whose `key(name)` are served by as many different masters. */
  namesOnDifferentMasters(count: number, key: (name: string) => string, prefix?: string): Promise<string[]>;
  /**
   * A plain ioredis Cluster client on this cluster, for a test's own reads and writes. `stop`
   * disconnects any still open, and none retries once it began: a client left reconnecting to
   * stopped nodes is a timer that keeps the test file's process alive after its suite.
   */
  client(options?: ClusterOptions): Cluster;
  /** Disconnects the clients made by `client`, then stops every node. */
  stop(): Promise<void>;
}

export interface RedisSentinel {
  readonly master: TopologyNode;
  readonly replica: TopologyNode;
  readonly sentinel: TopologyNode;
  /** The master group name. */
  readonly name: string;
  /** The sentinel URLs for `redis.sentinel.sentinels`. */
  readonly sentinelUrls: string[];
  stop(): Promise<void>;
}

type StartedNode = TopologyNode & { stop(): Promise<void>; exited(): boolean; output(): string };

/** How often a node is started again on fresh ports when it exits at once (its port was taken between `freePort` and its bind). */
const START_ATTEMPTS = 3;
const OUTPUT_TAIL_CHARS = 2000;

function startProcess(args: string[], port: number): StartedNode {
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const terminate = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const lingering = await Promise.race([exited.then(() => false), sleep(STOP_GRACE_MS).then(() => true)]);
    if (lingering) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    output: () => output,
    kill: () => terminate('SIGKILL'),
    async stop() {
      await terminate('SIGTERM');
      process.removeListener('exit', killOnExit);
    },
  };
}

/** Waits for `node` to answer PING; fails at once, with its output, if it exited instead. */
async function untilAnswering(node: StartedNode): Promise<void> {
  for (let waited = 0; waited < FORM_TIMEOUT_MS; waited += POLL_MS) {
    if (node.exited()) throw Object.assign(new Error(`redis-server on ${node.port} exited at start: ${node.output().trim()}`), { exitedAtStart: true });
    if (await answersPing(node.port)) return;
    await sleep(POLL_MS);
  }
  throw new Error(`redis-server on ${node.port} did not answer within ${FORM_TIMEOUT_MS} ms: ${node.output().trim()}`);
}

/** A cluster node on fresh ports, started again on others when it exits at once. */
async function startClusterNode(dir: string): Promise<StartedNode> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const busPort = await freePort();
    const node = startProcess(
      ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '1000',
        '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
      port,
    );
    try {
      await untilAnswering(node);
      return node;
    } catch (error) {
      await node.stop();
      if (!(error as { exitedAtStart?: boolean }).exitedAtStart || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = FORM_TIMEOUT_MS): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += POLL_MS) {
    if (await check().catch(() => false)) return;
    await sleep(POLL_MS);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

async function ask<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // A killed node refuses: connect() rejects, which the caller handles; no unhandled-error noise.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

/** Starts 3 masters (and `replicas` replicas of each) as one cluster; resolves once every node says cluster_state:ok and lists the replicas. */
export async function startRedisCluster(options: { replicas?: 0 | 1 } = {}): Promise<RedisCluster> {
  const replicas = options.replicas ?? 0;
  const dir = mkdtempSync(join(tmpdir(), 'lightbus-cluster-'));
  const started: StartedNode[] = [];
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) started.push(await startClusterNode(dir));
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...started.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { encoding: 'utf8', timeout: FORM_TIMEOUT_MS },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const node of started) {
      await waitUntil(`cluster_state:ok on ${node.port}`, () => ask(node.port, async (r) => String(await r.cluster('INFO')).includes('cluster_state:ok')));
    }
    // A replica joins its master a moment after the cluster is ok: until every node's CLUSTER
    // SLOTS lists it, clients know no replica to read from or to fail over to.
    if (replicas > 0) {
      for (const node of started) {
        await waitUntil(`every slot range with a replica on ${node.port}`, () =>
          ask(node.port, async (r) => ((await r.cluster('SLOTS')) as unknown as unknown[][]).every((range) => range.length >= 4)),
        );
      }
    }
  } catch (error) {
    await Promise.all(started.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const clients: Cluster[] = [];
  let stopping = false;
  const cluster: RedisCluster = {
    nodes: started,
    urls: started.map((node) => node.url),
    async masterOf(key) {
      for (const node of started) {
        const owner = await ask(node.port, async (r) => {
          const slot = Number(await r.cluster('KEYSLOT', key));
          const shards = (await r.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>;
          return shards.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
        }).catch(() => undefined);
        const found = started.find((n) => n.port === owner);
        if (found) return found;
      }
      throw new Error(`no live node knows who serves ${key}`);
    },
    clientNames: (node, options = {}) =>
      ask(node.port, async (r) =>
        String(await r.client('LIST'))
          .split('\n')
          .filter((line) => line.trim() !== '' && (!options.blocked || / flags=\S*b/.test(line)))
          .map((line) => / name=(\S*)/.exec(line)?.[1] ?? ''),
      ),
    async namesOnDifferentMasters(count, key, prefix = 't') {
      const byMaster = new Map<number, string>();
      for (let i = 0; byMaster.size < count && i < 200; i++) {
        const name = `${prefix}_${randomUUID().slice(0, 8)}`;
        const port = (await cluster.masterOf(key(name))).port;
        if (!byMaster.has(port)) byMaster.set(port, name);
      }
      if (byMaster.size < count) throw new Error(`found no ${count} names on different masters`);
      return [...byMaster.values()];
    },
    client(options = {}) {
      const client = new Cluster(
        started.map((node) => ({ host: '127.0.0.1', port: node.port })),
        { ...options, clusterRetryStrategy: (attempt) => (stopping ? null : Math.min(100 * attempt, 1000)) },
      );
      clients.push(client);
      return client;
    },
    async stop() {
      stopping = true;
      for (const client of clients) if (client.status !== 'end') client.disconnect();
      await Promise.all(started.map((node) => node.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Whether the sentinel on `port` knows a healthy replica of `name` it could promote. */
export async function sentinelSeesReplica(port: number, name: string): Promise<boolean> {
  return ask(port, async (r) => {
    const replicas = (await r.call('SENTINEL', 'REPLICAS', name)) as string[][];
    return replicas.some((fields) => {
      const field = (key: string) => fields[fields.indexOf(key) + 1];
      return field('flags') === 'slave' && field('master-link-status') === 'ok';
    });
  });
}

/** Starts a master, its replica and one sentinel watching them (quorum 1, down after 1 s). */
export async function startRedisSentinel(name = 'lightbus-test'): Promise<RedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'lightbus-sentinel-'));
  const started: StartedNode[] = [];
  try {
    const masterPort = await freePort();
    const replicaPort = await freePort();
    const sentinelPort = await freePort();
    const plain = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
    const master = startProcess(['--port', String(masterPort), ...plain], masterPort);
    started.push(master);
    const replica = startProcess(['--port', String(replicaPort), '--replicaof', '127.0.0.1', String(masterPort), ...plain], replicaPort);
    started.push(replica);
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${name} 1000`, `sentinel failover-timeout ${name} 5000`, ''].join('\n'),
    );
    const sentinel = startProcess([config, '--sentinel'], sentinelPort);
    started.push(sentinel);
    for (const node of started) await untilAnswering(node);
    await waitUntil('the replica in sync', () => ask(masterPort, async (r) => String(await r.info('replication')).includes('connected_slaves:1')));
    await waitUntil('the sentinel seeing the master', () =>
      ask(sentinelPort, async (r) => Array.isArray(await r.call('SENTINEL', 'get-master-addr-by-name', name))),
    );
    // A sentinel finds replicas in the master's INFO (every 10 s at first): until then it has
    // nothing to promote, and a failover fails with NOGOODSLAVE.
    await waitUntil('the sentinel seeing the replica', () => sentinelSeesReplica(sentinelPort, name), 2 * FORM_TIMEOUT_MS);
    return {
      master,
      replica,
      sentinel,
      name,
      sentinelUrls: [sentinel.url],
      async stop() {
        await Promise.all(started.map((node) => node.stop()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
