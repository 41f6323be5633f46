/**
 * One process, no worker threads: a process bus serving and calling itself, beside a raw
 * LPUSH/BLPOP ping-pong measured in the same run. Prints one JSON line.
 * Run: `npm run build && node --import tsx bench/in-process.ts`
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createBus, defineApi, event, rpc, Type } from '../src/index.js';

const CALLS = 3000;
const EVENTS = 20_000;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const ms = (value: number) => Number(value.toFixed(3));

async function rawPingPong(prefix: string): Promise<number[]> {
  const [caller, echoIn, callerIn, echoOut] = [new Redis(), new Redis(), new Redis(), new Redis()];
  let echoing = true;
  const echo = (async () => {
    while (echoing) {
      const popped = await echoIn.blpop(`${prefix}:req`, 1);
      if (popped) await echoOut.lpush(`${prefix}:rep`, popped[1]);
    }
  })();
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await caller.lpush(`${prefix}:req`, 'x');
    await callerIn.blpop(`${prefix}:rep`, 1);
    times.push(performance.now() - start);
  }
  echoing = false;
  await echo;
  for (const connection of [caller, echoIn, callerIn, echoOut]) connection.disconnect();
  return times;
}

const name = `bench_inproc_${randomUUID().slice(0, 8)}`;
const raw = await rawPingPong(name);
const api = defineApi(name, {
  rpcs: { add: rpc({ a: Type.Number(), b: Type.Number() }, Type.Number()) },
  events: { counted: event({ n: Type.Integer() }) },
});
const bus = createBus({ config: { serviceName: name, logLevel: 'warn' } });
await bus.serve(api, { add: ({ a, b }) => a + b });
for (let i = 0; i < 300; i++) await bus.call(api.rpcs.add, { a: i, b: 1 });
const latencies: number[] = [];
for (let i = 0; i < CALLS; i++) {
  const start = performance.now();
  await bus.call(api.rpcs.add, { a: i, b: 1 });
  latencies.push(performance.now() - start);
}
let handled = 0;
let lastHandledAt = 0;
await bus.listen(api.events.counted, { name: 'count' }, () => {
  handled++;
  lastHandledAt = performance.now();
}).ready;
const firstFire = performance.now();
await Promise.all(Array.from({ length: EVENTS }, (_, n) => bus.fire(api.events.counted, { n })));
const allFired = performance.now();
for (let waited = 0; handled < EVENTS && waited < 60_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
console.log(
  JSON.stringify({
    rawPingPongMs: { p50: ms(percentile(raw, 0.5)), p99: ms(percentile(raw, 0.99)) },
    rpcRoundTripMs: { p50: ms(percentile(latencies, 0.5)), p99: ms(percentile(latencies, 0.99)) },
    eventsFiredPerSecond: Math.round(EVENTS / ((allFired - firstFire) / 1000)),
    eventsFireToHandledPerSecond: Math.round(handled / ((lastHandledAt - firstFire) / 1000)),
    eventsHandled: handled,
  }),
);
await bus.close();
const redis = new Redis();
const keys = await redis.keys(`${name}*`);
await redis.del(...keys, `schema:${name}`);
await redis.srem('schemas', name);
redis.disconnect();
