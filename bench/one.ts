/**
 * `node --import tsx bench/one.ts rpc|ordered [rounds]` (after `npm run build`): figure 2 (RPC, 64
 * in flight) or figure 8 (an `orderBy` listener) alone, against one `lightbus run --workers 2`
 * child, `rounds` times (default 3), each with its CPU per operation by process. Comparing two
 * versions of the code this way, alternating, is steadier than two whole runs of `npm run bench`:
 * the later rounds are warm, and nothing else runs between them.
 */
import { Session } from './lib/session.js';
import { measureRpcThroughput } from './scenarios/rpc-throughput.js';
import { measureOrderedEvents } from './scenarios/ordered-events.js';
import type { CpuPerOperation } from './lib/cpu.js';

const scenario = process.argv[2];
const rounds = Number(process.argv[3] ?? 3);
if ((scenario !== 'rpc' && scenario !== 'ordered') || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: node --import tsx bench/one.ts rpc|ordered [rounds]');
  process.exit(2);
}

const cpu = (c: CpuPerOperation) =>
  `${c.totalUs.toFixed(0)} µs per op (caller ${c.benchUs.toFixed(1)}, main ${c.childMainUs.toFixed(1)}, other threads ${c.childOtherUs.toFixed(1)}, Redis ${c.redisUs === undefined ? "not measured" : c.redisUs.toFixed(1)})`;

const session = new Session(600_000);
try {
  const ctx = await session.start();
  for (let round = 1; round <= rounds; round++) {
    if (scenario === 'rpc') {
      const m = await measureRpcThroughput(ctx);
      console.log(`round ${round}: ${Math.round(m.perSecond).toLocaleString('en-US')} RPC/s, ${cpu(m.cpu)}`);
    } else {
      const m = await measureOrderedEvents(ctx);
      console.log(`round ${round}: ${Math.round(m.perSecond).toLocaleString('en-US')} events/s, p99 at ${m.steady.rate}/s ${m.steady.p99.toFixed(1)} ms, ${cpu(m.cpu)}`);
    }
  }
} finally {
  await session.finish();
}
process.exit(0);
