/**
 * The heartbeat says how many workers run once they are up. A module that serves at import is
 * served, and announced, while its thread still loads (no worker ready yet); the registration
 * that follows must announce the workers, not leave `inspect` and the dashboard showing 0 until
 * the next periodic beat.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { apiSchema } from '../../../src/api/define.js';
import { resolveConfig } from '../../../src/config/load.js';
import { SchemaValidator } from '../../../src/core/validator.js';
import { defineApi, rpc, Type } from '../../../src/index.js';
import { buildRuntime } from '../../../src/runtime/build-runtime.js';
import { InlineExecutor, type Executor } from '../../../src/runtime/executor.js';
import { HandlerRunner } from '../../../src/runtime/handler-runner.js';
import type { Registrations } from '../../../src/runtime/protocol.js';
import { Registry } from '../../../src/runtime/registry.js';
import { MemoryPresenceTransport } from '../../../src/transport/memory/presence-transport.js';
import { MemoryRpcStore } from '../../../src/transport/memory/rpc-store.js';
import { MemoryStore } from '../../../src/transport/memory/store.js';
import { waitFor } from '../../helpers/wait.js';

const api = defineApi('unit_heartbeat', { rpcs: { echo: rpc({ text: Type.String() }, Type.String()) } });
const config = resolveConfig({ serviceName: 'unit_heartbeat_svc', transport: 'memory', logLevel: 'silent' });
const logger = pino({ level: 'silent' });

/** The inline executor with a worker count that changes as a pool's does while its threads start. */
function startingPool(): Executor & { workerCount: number } {
  const inline = new InlineExecutor(new HandlerRunner(new Registry(), new SchemaValidator(), config, logger));
  return Object.assign(Object.create(inline) as InlineExecutor, { workerCount: 0 }) as unknown as Executor & { workerCount: number };
}

test('the registration after the workers are up announces them, even when the API was served while they loaded', async () => {
  const store = new MemoryStore();
  let pool: ReturnType<typeof startingPool> | undefined;
  const { invoker } = buildRuntime({
    config,
    logger,
    memoryStore: store,
    executor: () => (pool = startingPool()),
    onShutdownRequested: () => undefined,
    onRemoteSchemas: () => undefined,
  });
  const presence = new MemoryPresenceTransport(MemoryRpcStore.of(store));
  const heartbeat = async () => (await presence.list()).find((p) => p.service === config.serviceName);
  try {
    await invoker.start();
    // The module's `bus.serve()` at import, while its thread loads.
    const served = await invoker.handle({ type: 'serve', requestId: 1, api: { name: api.name, schema: apiSchema(api) } });
    assert.equal(served.ok, true);
    await waitFor(async () => (await heartbeat())?.apis.includes(api.name), 'the heartbeat naming the API');
    assert.equal((await heartbeat())?.workers, 0);
    // The thread is ready; the runner registers what every thread loaded.
    pool!.workerCount = 1;
    const registrations: Registrations = { apis: [{ name: api.name, schema: apiSchema(api) }], listeners: [], tasks: [], hasStartHooks: false, hasStopHooks: false };
    await invoker.register(registrations);
    await waitFor(async () => (await heartbeat())?.workers === 1, 'the heartbeat counting the ready worker, long before the periodic one (5 s)', 1000);
  } finally {
    await invoker.close(0);
  }
});
