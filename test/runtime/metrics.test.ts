// `lightbus run --metrics-port`: /metrics scraped from a real runner (worker threads, Redis)
// after known traffic, counted exactly; /healthz and /readyz in each state: starting, running,
// draining after SIGTERM, and Redis down (a private redis-server, killed and restarted).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createBus } from '../../src/index.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniqueName, waitFor } from '../helpers/wait.js';
import { REDIS_URL, fixtureEnv, readTally, testNames } from './helpers/bus-state.js';
import { metricsBase, probe, scrape } from './helpers/metrics-endpoints.js';
import { startRunner } from './helpers/runner-process.js';
import { runnerSuiteState } from './helpers/suite-state.js';

const { redis, used, buses } = runnerSuiteState();
let server: RedisServer | undefined;
after(async () => server?.stop());

test('/metrics counts exactly what a runner did: RPCs called and executed, events fired, read, handled and dead-lettered, a crash and its worker restart', async () => {
  const names = testNames('metrics');
  used.push(names);
  const runner = await startRunner({
    modules: ['metrics-traffic.ts'],
    serviceName: names.service,
    workers: 1,
    args: ['--metrics-port', '0'],
    config: { events: { deadLetterStream: names.deadLetters }, runner: { maxCrashRedeliveries: 1 } },
    env: fixtureEnv(names),
  });
  const base = await metricsBase(runner);
  await runner.ready();
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);

  const api = names.api;
  for (let i = 0; i < 5; i++) assert.equal(await bus.call(`${api}.echo`, { text: `n${i}` }), `n${i}`);
  for (let i = 0; i < 2; i++) await assert.rejects(bus.call(`${api}.fail`, {}));
  assert.equal(await bus.call(`${api}.relay`, { text: 'via' }), 'via');
  for (let i = 0; i < 4; i++) await bus.fire(`${api}.job`, { id: `ok${i}`, fail: false, crash: false });
  await bus.fire(`${api}.job`, { id: 'bad', fail: true, crash: false });
  await waitFor(async () => (await redis.xlen(names.deadLetters)) === 1, 'the failed job to be dead-lettered', 15_000);
  // The crash last, alone: its worker dies, it runs again alone, dies again, and is dead-lettered.
  await bus.fire(`${api}.job`, { id: 'boom', fail: false, crash: true });
  await waitFor(async () => (await redis.xlen(names.deadLetters)) === 2, 'the crashing job to be dead-lettered', 30_000);
  await waitFor(async () => (await scrape(base)).get('lightbus_workers') === 1, 'the replacement worker', 15_000);

  const m = await scrape(base);
  const at = (name: string, labels: Record<string, string> = {}) => {
    const text = Object.keys(labels).length === 0 ? name : `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
    return m.get(text);
  };
  assert.equal(at('lightbus_rpc_executions_total', { api, procedure: 'echo', outcome: 'ok' }), 6, 'five calls and the relayed one');
  assert.equal(at('lightbus_rpc_executions_total', { api, procedure: 'fail', outcome: 'error' }), 2);
  assert.equal(at('lightbus_rpc_executions_total', { api, procedure: 'relay', outcome: 'ok' }), 1);
  assert.equal(at('lightbus_rpc_execution_duration_seconds_count', { api, procedure: 'echo' }), 6);
  // Calls and fires made by handler code in a worker thread, counted in the main thread.
  assert.equal(at('lightbus_rpc_calls_total', { api, procedure: 'echo', outcome: 'ok' }), 1);
  assert.equal(at('lightbus_rpc_call_duration_seconds_count', { api, procedure: 'echo' }), 1);
  assert.equal(at('lightbus_events_fired_total', { api, event: 'noted', outcome: 'ok' }), 1);
  assert.equal(at('lightbus_events_read_total', { listener: 'jobs' }), 6);
  assert.equal(at('lightbus_events_handled_total', { listener: 'jobs', api, event: 'job', outcome: 'ok' }), 4);
  assert.equal(at('lightbus_events_handled_total', { listener: 'jobs', api, event: 'job', outcome: 'error' }), 1);
  assert.equal(at('lightbus_events_handled_total', { listener: 'jobs', api, event: 'job', outcome: 'crashed' }), 1);
  assert.equal(at('lightbus_events_dead_lettered_total', { listener: 'jobs', api, event: 'job' }), 2);
  assert.equal(at('lightbus_crash_redeliveries_total', { listener: 'jobs' }), 1);
  assert.equal(at('lightbus_worker_restarts_total'), 1);
  assert.equal(at('lightbus_rpc_slots_in_use'), 0);
  assert.equal(at('lightbus_rpc_slots'), 32);
  assert.equal(at('lightbus_listener_slots', { listener: 'jobs' }), 1);
  assert.equal(at('lightbus_listener_slots_in_use', { listener: 'jobs' }), 0);
  assert.equal(at('lightbus_listener_pending_events', { listener: 'jobs' }), 0);
  assert.equal(at('lightbus_listener_lag_seconds', { listener: 'jobs' }), 0);
  assert.equal(at('lightbus_redis_reconnects_total'), 0);
  assert.ok((at('process_resident_memory_bytes') ?? 0) > 0, 'the process metrics are there too');
  assert.equal((await readTally(redis, names))['job:boom'], 2, 'the crashing job ran twice');
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});

test('/readyz: not ready while the modules load, ready once running, not ready while draining after SIGTERM; /healthz stays ok', async () => {
  const names = testNames('probes');
  used.push(names);
  const goFile = join(tmpdir(), `${uniqueName('go')}`);
  const runner = await startRunner({
    modules: ['metrics-probes.ts'],
    serviceName: names.service,
    workers: 1,
    args: ['--metrics-port', '0'],
    config: { runner: { shutdownGraceMs: 20_000 } },
    env: fixtureEnv(names, REDIS_URL, { FIXTURE_GO_FILE: goFile }),
  });
  const base = await metricsBase(runner);
  await runner.waitForLog((r) => r.msg === 'importing', 30_000, 'the modules to be loading');
  const starting = await probe(base, '/readyz');
  assert.equal(starting.status, 503);
  assert.match(String(starting.body.checks['started']), /^starting/);
  assert.equal((await probe(base, '/healthz')).status, 200);

  writeFileSync(goFile, '');
  await runner.ready();
  const ready = await probe(base, '/readyz');
  assert.deepEqual(ready, { status: 200, body: { status: 'ok', checks: { started: true, workers: true } } });
  const healthy = await probe(base, '/healthz');
  assert.equal(healthy.status, 200);
  assert.deepEqual(healthy.body.checks, { redis: true, rpc: true, 'listener:steady': true });

  // A handler that runs a while keeps the drain going long enough to look at it.
  const bus = createBus({ config: { serviceName: names.caller, logLevel: 'silent' } });
  buses.push(bus);
  await bus.fire(`${names.api}.item`, { id: 'slow', ms: 3000 });
  await waitFor(async () => (await readTally(redis, names))['started:slow'] === 1, 'the slow handler to start', 10_000);
  runner.signal('SIGTERM');
  await runner.waitForLog((r) => r.msg.startsWith('stopping'), 10_000, 'the drain to begin');
  const draining = await probe(base, '/readyz');
  assert.equal(draining.status, 503);
  assert.match(String(draining.body.checks['started']), /^stopping/);
  assert.equal((await probe(base, '/healthz')).status, 200, 'a draining process is not one to kill');
  assert.equal((await readTally(redis, names))['handled:slow'], undefined, 'probed while the handler still ran');
  assert.deepEqual(await runner.exit(30_000), { code: 0, signal: null }, runner.tail());
  assert.equal((await readTally(redis, names))['handled:slow'], 1);
});

test('/healthz fails while Redis is down (naming the PING bound) and recovers when it is back; reconnects are counted', async () => {
  const names = testNames('health');
  used.push(names);
  server = await startRedisServer();
  const runner = await startRunner({
    modules: ['echo-and-listen.ts'],
    serviceName: names.service,
    workers: 1,
    args: ['--metrics-port', '0', '--redis-url', server.url],
    config: { metrics: { redisTimeoutMs: 300 } },
    env: fixtureEnv(names, REDIS_URL),
  });
  const base = await metricsBase(runner);
  await runner.ready();
  assert.equal((await probe(base, '/healthz')).status, 200);

  await server.kill();
  const down = await probe(base, '/healthz');
  assert.equal(down.status, 503);
  assert.deepEqual(down.body.status, 'failing');
  assert.equal(down.body.checks['redis'], 'Redis did not answer a PING within 300 ms');
  assert.equal((await probe(base, '/readyz')).status, 200, 'readiness is about having joined the bus, not about Redis');

  await server.start();
  await waitFor(async () => (await probe(base, '/healthz')).status === 200, 'health to come back with Redis', 30_000, 200);
  await waitFor(async () => ((await scrape(base)).get('lightbus_redis_reconnects_total') ?? 0) > 0, 'the reconnects to be counted', 30_000, 200);
  assert.deepEqual(await runner.stop(), { code: 0, signal: null }, runner.tail());
});
