/**
 * Figure 10: one redis-server against a Redis Cluster of 3 masters (with `redis.keys` 'python',
 * then 'hash-tagged'), both started here on free loopback ports (the test helpers, stopped by
 * pid), never the shared Redis. On each, a
 * `lightbus run --workers 2` child (bench/fixtures/cluster-bus.ts) serves ONE API, then
 * SEVERAL in parallel (their queues and streams spread over the masters), and the benchmark
 * measures RPC throughput with 64 calls in flight (shared round robin over the APIs) and
 * events from first fire to last handled (20,000 events shared over the APIs, one listener
 * group per API), with CPU per operation for this process, the child and every redis-server.
 * It also counts the child's connections on each node (bench/lib/connections.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus, type Bus, type LightbusConfig } from 'lightbus';
import { startRedisCluster } from '../../test/helpers/redis-cluster.js';
import { startRedisServer } from '../../test/helpers/redis-server.js';
import { benchApis } from '../fixtures/bench-api.js';
import { scalingApis, type ScalingApi } from '../fixtures/scaling-apis.js';
import { spawnLightbus, stopChild } from '../lib/children.js';
import { connectionsOf, type NodeConnections } from '../lib/connections.js';
import { CpuMeter, type CpuPerOperation } from '../lib/cpu.js';
import { runConcurrently, wallClockMs, withTimeout } from '../lib/measure.js';
import { ReportMailbox } from '../lib/reports.js';
import { untilServing, WORKERS } from '../lib/session.js';
import { IN_FLIGHT } from './rpc-throughput.js';

export const SEVERAL_APIS = 4;
const RPC_WARMUP_MS = 1000;
const RPC_MEASURED_MS = 3000;
const WARMUP_EVENTS = 1000;
const MEASURED_EVENTS = 20_000;
/** Seqs of API i start at i x this, so every API's `last` event has a seq of its own. */
const SEQ_STRIDE = 1_000_000;

interface Topology {
  name: 'single' | 'cluster';
  redis: LightbusConfig['redis'];
  ports: number[];
  pids: number[];
  /** The key layouts measured on it (`redis.keys`): hash-tagged only means something on a cluster. */
  layouts: KeyLayoutName[];
  /** The port of the server holding `key`. */
  serverOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

type KeyLayoutName = 'python' | 'hash-tagged';

export interface TopologyFigures {
  topology: Topology['name'];
  keys: KeyLayoutName;
  apis: number;
  /** How many redis-servers hold the APIs' queues (1 on a single server). */
  mastersUsed: number;
  rpc: { inFlight: number; calls: number; perSecond: number; cpu: CpuPerOperation };
  events: { events: number; perSecond: number; cpu: CpuPerOperation };
  /** The child's connections, counted on each redis-server once it served. */
  connections: NodeConnections[];
}

/** Runs every topology and API count in turn; the children's logs stay in a scratch directory if one fails. */
export async function measureClusterScaling(runId: string, log: (line: string) => void): Promise<TopologyFigures[]> {
  const tmpDir = mkdtempSync(join(tmpdir(), 'lightbus-bench-cluster-'));
  const figures: TopologyFigures[] = [];
  for (const start of [startSingle, startCluster]) {
    const topology = await start();
    try {
      for (const keys of topology.layouts) {
        for (const apis of [1, SEVERAL_APIS]) {
          log(`bench: ${topology.name === 'single' ? 'one redis-server' : `3-master cluster, keys '${keys}'`}, ${apis} API(s)...`);
          figures.push(await withTimeout(measureOne(topology, keys, apis, runId, tmpDir), 120_000, `${topology.name} (${keys}) with ${apis} APIs`));
        }
      }
    } catch (error) {
      throw new Error(`${(error as Error).message} (logs in ${tmpDir})`);
    } finally {
      await topology.stop();
    }
  }
  rmSync(tmpDir, { recursive: true, force: true });
  return figures;
}

async function startSingle(): Promise<Topology> {
  const server = await startRedisServer();
  return { name: 'single', redis: { url: server.url }, ports: [server.port], pids: [server.pid], layouts: ['python'], serverOf: async () => server.port, stop: () => server.stop() };
}

async function startCluster(): Promise<Topology> {
  const cluster = await startRedisCluster();
  return {
    name: 'cluster',
    redis: { cluster: { nodes: cluster.urls } },
    ports: cluster.nodes.map((node) => node.port),
    pids: cluster.nodes.map((node) => node.pid),
    layouts: ['python', 'hash-tagged'],
    serverOf: async (key) => (await cluster.masterOf(key)).port,
    stop: () => cluster.stop(),
  };
}

async function measureOne(topology: Topology, keys: KeyLayoutName, apiCount: number, runId: string, tmpDir: string): Promise<TopologyFigures> {
  const prefix = `${runId}_${topology.name}${keys === 'hash-tagged' ? '_tagged' : ''}${apiCount}`;
  const redis = keys === 'python' ? topology.redis : { ...topology.redis, keys };
  const apis = scalingApis(prefix, apiCount);
  const report = benchApis(prefix);
  const configPath = join(tmpDir, `${prefix}.config.json`);
  writeFileSync(configPath, JSON.stringify({ serviceName: `${prefix}_svc`, redis, logLevel: 'warn' }));
  const child = spawnLightbus({
    module: 'bench/fixtures/cluster-bus.ts',
    workers: WORKERS,
    configPath,
    env: { BENCH_PREFIX: prefix, BENCH_API_COUNT: String(apiCount) },
    logPath: join(tmpDir, `${prefix}.log`),
  });
  const caller = createBus({ config: { serviceName: `${prefix}_caller`, redis, logLevel: 'warn' } });
  try {
    const reports = await ReportMailbox.open(caller, report);
    for (const api of apis) await untilServing(child, () => caller.call(api.rpcs.echo, { text: 'ready?', n: 0 }, { timeoutMs: 2000 }));
    const connections = await connectionsOf(child.pid, topology.ports);
    const cpu = new CpuMeter(child.pid, topology.pids, cpus().length);
    return {
      topology: topology.name,
      apis: apiCount,
      keys,
      // The queue names of docs/scaling.md's Key layout.
      mastersUsed: new Set(await Promise.all(apis.map((api) => topology.serverOf(keys === 'python' ? `${api.name}:rpc_queue` : `lightbus:{${api.name}}:rpc_queue`)))).size,
      rpc: await rpcThroughput(caller, apis, cpu),
      events: await eventThroughput(caller, apis, reports, cpu),
      connections,
    };
  } finally {
    await withTimeout(caller.close(), 10_000, 'closing the caller').catch(() => undefined);
    await stopChild(child.pid);
  }
}

async function rpcThroughput(caller: Bus, apis: ScalingApi[], cpu: CpuMeter): Promise<TopologyFigures['rpc']> {
  let n = 0;
  const once = async () => {
    const i = n++;
    const reply = await caller.call(apis[i % apis.length]!.rpcs.echo, { text: 'hello', n: i }, { timeoutMs: 5000 });
    if (reply.n !== i) throw new Error(`echo answered ${reply.n} to ${i}`);
  };
  await runConcurrently(IN_FLIGHT, RPC_WARMUP_MS, once);
  const start = cpu.snapshot();
  const { completed, elapsedMs } = await runConcurrently(IN_FLIGHT, RPC_MEASURED_MS, once);
  return { inFlight: IN_FLIGHT, calls: completed, perSecond: (completed / elapsedMs) * 1000, cpu: cpu.perOperation(start, completed) };
}

async function eventThroughput(caller: Bus, apis: ScalingApi[], reports: ReportMailbox, cpu: CpuMeter): Promise<TopologyFigures['events']> {
  await fireAndDrain(caller, apis, reports, 0, WARMUP_EVENTS / apis.length);
  const start = cpu.snapshot();
  const perApi = MEASURED_EVENTS / apis.length;
  const elapsedMs = await fireAndDrain(caller, apis, reports, WARMUP_EVENTS, perApi);
  return { events: perApi * apis.length, perSecond: ((perApi * apis.length) / elapsedMs) * 1000, cpu: cpu.perOperation(start, perApi * apis.length) };
}

/**
 * Fires `perApi` events to each API, all at once but each API's `last` after its others
 * were written, and waits until every API's listener handled its `last` (as figure 3 does,
 * per API). Returns the milliseconds from the first fire to the last handled.
 */
async function fireAndDrain(caller: Bus, apis: ScalingApi[], reports: ReportMailbox, firstSeq: number, perApi: number): Promise<number> {
  const lastSeq = (i: number) => i * SEQ_STRIDE + firstSeq + perApi - 1;
  const drained = apis.map((_, i) => reports.waitFor<{ seq: number; handledAt: number }>('drained', lastSeq(i), 60_000));
  for (const wait of drained) wait.catch(() => undefined);
  const startedAt = wallClockMs();
  const fires: Array<Promise<unknown>> = [];
  for (let j = 0; j < perApi - 1; j++) {
    apis.forEach((api, i) => fires.push(caller.fire(api.events.tick, { seq: i * SEQ_STRIDE + firstSeq + j, last: false })));
  }
  await withTimeout(Promise.all(fires), 60_000, `firing ${fires.length} events`);
  await Promise.all(apis.map((api, i) => caller.fire(api.events.tick, { seq: lastSeq(i), last: true })));
  const handled = await Promise.all(drained);
  return Math.max(...handled.map((h) => h.handledAt)) - startedAt;
}
