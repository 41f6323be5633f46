/**
 * The checks of `redis.cluster` and `redis.sentinel` that a JSON Schema cannot word well: a
 * half-configured block (no nodes, no master name), both at once, and node URLs that disagree
 * on what one client must share (scheme, credentials) or name a database a cluster lacks.
 * Each problem names its key and the fix.
 */
/** One problem, as validate.ts reports it (declared here: validate.ts imports this module). */
interface ConfigProblem {
  keyPath: string;
  text: string;
}

const CLUSTER_EXAMPLE = "redis: { cluster: { nodes: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'] } }";
const SENTINEL_EXAMPLE = "redis: { sentinel: { sentinels: ['redis://10.0.0.1:26379'], name: 'mymaster' } }";

/** Ajv's own errors for these keys are replaced by the clearer ones below. */
export const TOPOLOGY_ERROR_PATHS = /^\/redis\/(cluster|sentinel)(\/nodes|\/sentinels)?$/;

type Block = Record<string, unknown>;

/** Every problem of the Redis topology keys of `values`, keyed by `keyName` as the source names them. */
export function redisTopologyProblems(values: unknown, keyName: (keyPath: string) => string): ConfigProblem[] {
  const redis = (values as { redis?: unknown } | null)?.redis;
  if (typeof redis !== 'object' || redis === null) return [];
  const { cluster, sentinel, url } = redis as Block;
  const problems: ConfigProblem[] = [];
  const problem = (keyPath: string, text: string) => problems.push({ keyPath: keyName(keyPath), text: `${keyName(keyPath)} ${text}` });
  const isBlock = (value: unknown): value is Block => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (cluster !== undefined && sentinel !== undefined) {
    problem('redis.sentinel', 'cannot be set together with redis.cluster: a Redis Cluster fails over by itself, without Sentinel. Keep the block that matches your Redis');
  }
  if (isBlock(cluster)) {
    if (url !== undefined) problem('redis.url', 'cannot be set together with redis.cluster: a cluster is reached through redis.cluster.nodes (put the user and password in those URLs). Remove redis.url');
    const nodes = cluster['nodes'];
    if (!Array.isArray(nodes) || nodes.length === 0) {
      problem('redis.cluster.nodes', `is missing: list at least one node of the cluster (the others are found from it), as in ${CLUSTER_EXAMPLE}`);
    } else {
      problems.push(...nodeUrlProblems(nodes, 'redis.cluster.nodes', keyName, true));
    }
  }
  if (isBlock(sentinel)) {
    const sentinels = sentinel['sentinels'];
    if (!Array.isArray(sentinels) || sentinels.length === 0) {
      problem('redis.sentinel.sentinels', `is missing: list the sentinels to ask where the master is, as in ${SENTINEL_EXAMPLE}`);
    } else {
      problems.push(...nodeUrlProblems(sentinels, 'redis.sentinel.sentinels', keyName, false));
    }
    if (typeof sentinel['name'] !== 'string' || sentinel['name'] === '') {
      problem('redis.sentinel.name', `is missing: give the master group name your sentinels monitor (the NAME in "sentinel monitor NAME host port quorum"), as in ${SENTINEL_EXAMPLE}`);
    }
  }
  return problems;
}

/** What one client needs all its node URLs to agree on, and what each must be. */
function nodeUrlProblems(urls: unknown[], key: string, keyName: (keyPath: string) => string, cluster: boolean): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const shared = new Set<string>();
  urls.forEach((value, index) => {
    if (typeof value !== 'string') return;
    const at = keyName(`${key}[${index}]`);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      problems.push({ keyPath: at, text: `${at} must be a URL such as redis://10.0.0.1:7000, got something that does not parse as one` });
      return;
    }
    if (!parsed.hostname || !parsed.port) problems.push({ keyPath: at, text: `${at} must name a host and a port, as in redis://10.0.0.1:7000` });
    if (cluster && parsed.pathname !== '' && parsed.pathname !== '/' && parsed.pathname !== '/0') {
      problems.push({ keyPath: at, text: `${at} names database ${parsed.pathname.slice(1)}, but a Redis Cluster has only database 0: remove the path` });
    }
    shared.add(`${parsed.protocol}|${parsed.username}|${parsed.password}`);
  });
  if (shared.size > 1) {
    const at = keyName(key);
    problems.push({ keyPath: at, text: `${at} must all use the same scheme (redis:// or rediss://), user and password: one client connects to every node with one set of them` });
  }
  return problems;
}
