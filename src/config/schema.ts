/**
 * The configuration's one source of truth: a TypeBox schema gives both the TypeScript type
 * (for `defineConfig`) and the JSON Schema used to validate files at load time and published
 * by `lightbus dumpconfigschema`. Durations are milliseconds and say so in their names.
 */
import { Type, type Static } from '../vendor/typebox.js';

const Ms = (description: string, defaultValue: number) =>
  Type.Integer({ minimum: 1, description: `${description} (milliseconds, default ${defaultValue})`, default: defaultValue });

export const ApiConfigSchema = Type.Object(
  {
    rpcTimeoutMs: Type.Optional(Ms("How long a caller waits for an RPC's result", 5000)),
    fireTimeoutMs: Type.Optional(Ms('How long firing an event may take before it fails', 5000)),
    validate: Type.Optional(
      Type.Object(
        {
          outgoing: Type.Optional(Type.Boolean({ description: 'Validate what this process sends (default true)' })),
          incoming: Type.Optional(Type.Boolean({ description: 'Validate what this process receives (default true)' })),
        },
        { additionalProperties: false },
      ),
    ),
    strictValidation: Type.Optional(
      Type.Boolean({ description: 'Fail, rather than warn, when no schema is known for the API (default false)' }),
    ),
    whenNoServer: Type.Optional(
      Type.Union([Type.Literal('fail'), Type.Literal('wait')], {
        description:
          "A call to the API when no process serves it (no live heartbeat lists it, no schema on the bus): 'fail' at once with NoServerError, or 'wait' up to the call's timeout for a server to start, as during a rolling deploy (default fail)",
      }),
    ),
  },
  { additionalProperties: false },
);

const RedisNodeUrl = (example: string) =>
  Type.String({ pattern: '^rediss?://', description: `redis:// or rediss:// URL of one node, with user and password when ACLs need them (${example})` });

export const RedisClusterConfigSchema = Type.Object(
  {
    nodes: Type.Array(RedisNodeUrl('redis://user:password@10.0.0.1:7000'), {
      minItems: 1,
      description: 'Some nodes of the Redis Cluster to learn the rest from; every node shares their scheme and credentials (rediss:// uses redis.tls)',
    }),
    natMap: Type.Optional(
      Type.Record(Type.String(), Type.Object({ host: Type.String(), port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: false }), {
        description: "Addresses the cluster announces (\"10.0.0.1:7000\") mapped to the ones this process reaches them by, as ioredis's natMap",
      }),
    ),
    scaleReads: Type.Optional(
      Type.Union([Type.Literal('master'), Type.Literal('replica')], {
        description: "Where the read-only commands of lightbus inspect and the dashboard go: 'master' (default) or 'replica' (a moment behind; writes such as replays still go to masters); the bus itself always reads masters",
      }),
    ),
  },
  { additionalProperties: false },
);

export const RedisSentinelConfigSchema = Type.Object(
  {
    sentinels: Type.Array(RedisNodeUrl('redis://10.0.0.1:26379'), {
      minItems: 1,
      description: "Sentinels to ask where the master is, with the sentinels' own user and password if they need them; redis.url gives the master's credentials, database and TLS (its host is not used)",
    }),
    name: Type.String({ minLength: 1, description: 'The master group name the sentinels monitor (sentinel monitor NAME ...)' }),
  },
  { additionalProperties: false },
);

export const RedisConfigSchema = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        description: 'redis:// or rediss:// URL, with user, password and database (default redis://127.0.0.1:6379/0)',
        pattern: '^rediss?://',
      }),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Type.String({ description: 'Path of a PEM file with the CA certificate' })),
          cert: Type.Optional(Type.String({ description: 'Path of a PEM client certificate' })),
          key: Type.Optional(Type.String({ description: 'Path of the PEM key of the client certificate' })),
          rejectUnauthorized: Type.Optional(Type.Boolean()),
          servername: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    cluster: Type.Optional(RedisClusterConfigSchema),
    sentinel: Type.Optional(RedisSentinelConfigSchema),
    keys: Type.Optional(
      Type.Union([Type.Literal('python'), Type.Literal('hash-tagged')], {
        description:
          "Key names: 'python' (default), Python Lightbus's own, so Python peers can share the bus; 'hash-tagged', an API's keys in one cluster slot (lightbus:{api}:rpc_queue ...), so its hot path is one node: Python peers cannot join (docs/scaling.md)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const EventTransportConfigSchema = Type.Object(
  {
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: 'Most events in one batch handed to a handler thread; a listener reads batchSize x its free slots per XREADGROUP (default 100)' })),
    acknowledgementTimeoutMs: Type.Optional(
      Ms('How long an entry may stay pending before another consumer takes it over', 60000),
    ),
    maxStreamLength: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
        description: 'Approximate MAXLEN of every XADD; null for no trimming (default 100000)',
      }),
    ),
    streamUse: Type.Optional(
      Type.Union([Type.Literal('per_api'), Type.Literal('per_event')], {
        description: 'One stream per API (`{api}.*:stream`) or per event (default per_api)',
      }),
    ),
    deadLetterStream: Type.Optional(
      Type.String({ description: 'Where malformed and failed entries are moved (default lightbus:dead_letter:stream)' }),
    ),
  },
  { additionalProperties: false },
);

export const RpcTransportConfigSchema = Type.Object(
  {
    resultTtlMs: Type.Optional(Ms('Lifetime of a result list nobody reads', 60000)),
  },
  { additionalProperties: false },
);

export const RunnerConfigSchema = Type.Object(
  {
    workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'Worker threads (default: available parallelism)' })),
    concurrency: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10000, description: 'RPC executions at once per worker thread (default 32)' }),
    ),
    shutdownGraceMs: Type.Optional(Ms('How long in-flight handlers may run after SIGINT/SIGTERM', 10000)),
    workerMemoryLimitMb: Type.Optional(Type.Integer({ minimum: 16, description: 'Old-generation heap limit of each worker' })),
    maxCrashRedeliveries: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        description: 'How often an event whose handler killed its worker (process.exit, out of memory) is run again before it fails with WorkerCrashedError and the listener onError applies (default 3)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const MetricsConfigSchema = Type.Object(
  {
    port: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 65535, description: 'Serve /metrics, /healthz and /readyz on this port in lightbus run (0: any free port; absent: no server). --metrics-port overrides it' }),
    ),
    host: Type.Optional(Type.String({ minLength: 1, description: 'The address the metrics server listens on (default 127.0.0.1; 0.0.0.0 for a scraper or probe from outside the host or pod)' })),
    redisTimeoutMs: Type.Optional(Ms('How long /healthz waits for Redis to answer a PING before it reports unhealthy', 1000)),
  },
  { additionalProperties: false },
);

export const LightbusConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'The JSON Schema of this file, for editors (ignored)' })),
    serviceName: Type.Optional(
      Type.String({ minLength: 1, description: 'Names consumer groups; stable across restarts (default: package name)' }),
    ),
    processName: Type.Optional(Type.String({ minLength: 1, description: 'Consumer name of this process (default: host-pid)' })),
    transport: Type.Optional(
      Type.Union([Type.Literal('redis'), Type.Literal('memory')], { description: 'redis (default) or memory (one process only)' }),
    ),
    logLevel: Type.Optional(
      Type.Union(
        ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].map((l) => Type.Literal(l)),
        { description: 'default info' },
      ),
    ),
    redis: Type.Optional(RedisConfigSchema),
    events: Type.Optional(EventTransportConfigSchema),
    rpc: Type.Optional(RpcTransportConfigSchema),
    schema: Type.Optional(
      Type.Object({ ttlMs: Type.Optional(Ms('Lifetime of a published schema', 60000)) }, { additionalProperties: false }),
    ),
    apis: Type.Optional(
      Type.Record(Type.String(), ApiConfigSchema, {
        description: 'Per-API settings by API name; `default` applies to every API',
      }),
    ),
    runner: Type.Optional(RunnerConfigSchema),
    metrics: Type.Optional(MetricsConfigSchema),
    dashboard: Type.Optional(
      Type.Object(
        {
          authToken: Type.Optional(
            Type.String({ minLength: 16, description: 'The token `lightbus dashboard` requires for calls, replays and deletes (and for everything off loopback); env LIGHTBUS_DASHBOARD_TOKEN' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'https://lightbus.dev/config.schema.json', title: 'lightbus configuration' },
);

/** What a config file may contain: every key optional. */
export type LightbusConfigInput = Static<typeof LightbusConfigSchema>;
export type ApiConfigInput = Static<typeof ApiConfigSchema>;

/** An API's settings with every default filled in. */
export interface ApiConfig {
  rpcTimeoutMs: number;
  fireTimeoutMs: number;
  validate: { outgoing: boolean; incoming: boolean };
  strictValidation: boolean;
  whenNoServer: 'fail' | 'wait';
}

/** The configuration after defaults, file, environment and flags were merged. */
export interface ResolvedConfig {
  serviceName: string;
  processName: string;
  transport: 'redis' | 'memory';
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  redis: {
    url: string;
    tls?: NonNullable<Static<typeof RedisConfigSchema>['tls']>;
    cluster?: Static<typeof RedisClusterConfigSchema>;
    sentinel?: Static<typeof RedisSentinelConfigSchema>;
    /** Absent means 'python'; read it through keyLayoutOf (transport/wire/key-layout.ts). */
    keys?: 'python' | 'hash-tagged';
  };
  events: {
    batchSize: number;
    acknowledgementTimeoutMs: number;
    maxStreamLength: number | null;
    streamUse: 'per_api' | 'per_event';
    deadLetterStream: string;
  };
  rpc: { resultTtlMs: number };
  schema: { ttlMs: number };
  /** Per-API overrides exactly as written; read them through {@link apiConfig}. */
  apis: Record<string, ApiConfigInput>;
  runner: { workers?: number; concurrency?: number; shutdownGraceMs: number; workerMemoryLimitMb?: number; maxCrashRedeliveries: number };
  /** The metrics and health server of `lightbus run`; off without a `port`. */
  metrics: { port?: number; host: string; redisTimeoutMs: number };
  /** Set only when the file has a `dashboard` key. */
  dashboard?: { authToken?: string };
  /** The file the config came from, if any (used in error messages). */
  source?: string;
}

export const API_DEFAULTS: ApiConfig = {
  rpcTimeoutMs: 5000,
  fireTimeoutMs: 5000,
  validate: { outgoing: true, incoming: true },
  strictValidation: false,
  whenNoServer: 'fail',
};

/** The settings of one API: its own entry over `default` over the built-in defaults. */
export function apiConfig(config: Pick<ResolvedConfig, 'apis'>, api: string): ApiConfig {
  const base = config.apis['default'] ?? {};
  const own = config.apis[api] ?? {};
  return {
    rpcTimeoutMs: own.rpcTimeoutMs ?? base.rpcTimeoutMs ?? API_DEFAULTS.rpcTimeoutMs,
    fireTimeoutMs: own.fireTimeoutMs ?? base.fireTimeoutMs ?? API_DEFAULTS.fireTimeoutMs,
    validate: {
      outgoing: own.validate?.outgoing ?? base.validate?.outgoing ?? API_DEFAULTS.validate.outgoing,
      incoming: own.validate?.incoming ?? base.validate?.incoming ?? API_DEFAULTS.validate.incoming,
    },
    strictValidation: own.strictValidation ?? base.strictValidation ?? API_DEFAULTS.strictValidation,
    whenNoServer: own.whenNoServer ?? base.whenNoServer ?? API_DEFAULTS.whenNoServer,
  };
}

/** Typed config for `lightbus.config.ts`: `export default defineConfig({ ... })`. */
export function defineConfig(config: LightbusConfigInput): LightbusConfigInput {
  return config;
}
