/**
 * Figure 4: from a worker crash to the redelivery of its events. The child's `crasher`
 * listener (concurrency 2, so both workers hold a batch) gets 200 events; on the one marked
 * `crash` its handler writes the time to a file and calls `process.exit(1)`, which ends its
 * worker thread with a batch in flight. When that event is handled again (the file exists),
 * the handler reports both times: the figure is the difference, all of it inside the child.
 */
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { withTimeout } from '../lib/measure.js';

const EVENTS = 200;
const CRASH_AT_SEQ = 100;

export interface CrashRedelivery {
  redeliveryMs: number;
  /** The `lightbus run` process itself survived the crash of its worker. */
  processSurvived: boolean;
}

export async function measureCrashRedelivery(ctx: BenchContext): Promise<CrashRedelivery> {
  const { caller, apis, child } = ctx;
  const crashFile = join(ctx.tmpDir, 'crash-time');
  const recovered = ctx.reports.waitFor<{ seq: number; crashAt: number; handledAt: number }>('recovered', CRASH_AT_SEQ, 30_000);
  recovered.catch(() => undefined);
  const fires: Array<Promise<unknown>> = [];
  for (let seq = 0; seq < EVENTS; seq++) fires.push(caller.fire(apis.crash.events.job, { seq, crash: seq === CRASH_AT_SEQ, crashFile }));
  await withTimeout(Promise.all(fires), 30_000, 'firing the crash events');
  const { crashAt, handledAt } = await recovered;
  return { redeliveryMs: handledAt - crashAt, processSurvived: child.alive() };
}
