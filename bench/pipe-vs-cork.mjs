// CPU and wall time of sending LPUSH + PEXPIRE as an ioredis pipeline() against the same two
// commands in one corked socket write, one write in flight at a time (docs/benchmark.md,
// figures 1 and 2). Uses one key of its own on LIGHTBUS_REDIS_URL (default 127.0.0.1:6379/0)
// and deletes it. Run after `npm ci`: node bench/pipe-vs-cork.mjs
import { Redis } from 'ioredis';
const r = new Redis(process.env.LIGHTBUS_REDIS_URL ?? 'redis://127.0.0.1:6379/0');
const key = `lbbench_pipe_vs_cork_${process.pid}`;
async function viaPipeline() { await r.pipeline().lpush(key, 'x'.repeat(150)).pexpire(key, 60000).exec(); }
async function viaCork() {
  r.stream.cork();
  const a = r.lpush(key, 'x'.repeat(150)); const b = r.pexpire(key, 60000);
  r.stream.uncork();
  await Promise.all([a, b]);
}
for (const [name, fn] of [['pipeline', viaPipeline], ['cork', viaCork], ['pipeline', viaPipeline], ['cork', viaCork]]) {
  for (let i = 0; i < 2000; i++) await fn();
  await r.del(key);
  const c0 = process.cpuUsage(); const t0 = performance.now();
  const N = 10000;
  for (let i = 0; i < N; i++) { await fn(); if (i % 1000 === 0) await r.del(key); }
  const c = process.cpuUsage(c0); const dt = performance.now() - t0;
  console.log(name, 'cpu us/op', ((c.user + c.system) / N).toFixed(1), 'wall us/op', (dt * 1000 / N).toFixed(1));
}
await r.del(key); r.disconnect();
