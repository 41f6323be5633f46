/**
 * Figure 5: resident memory (VmRSS of the whole process: main thread and both workers) of
 * `lightbus run --workers 2` once it has been idle for a while after starting and answering
 * its first call.
 */
import { performance } from 'node:perf_hooks';
import type { LightbusChild } from '../lib/children.js';
import { sleep } from '../lib/measure.js';

export const IDLE_MS = 3000;

export async function measureIdleRss(child: LightbusChild, idleSince: number): Promise<{ rssMb: number; idleMs: number }> {
  const waited = performance.now() - idleSince;
  if (waited < IDLE_MS) await sleep(IDLE_MS - waited);
  return { rssMb: child.rssMb(), idleMs: Math.round(performance.now() - idleSince) };
}
