/**
 * Graceful shutdown under load: one `lightbus run` (2 workers) with a slow listener
 * (concurrency 5, batches of 100, `slowMs` per event) holds 500 events in flight when it gets
 * SIGTERM. It must stop within its grace period (plus a margin), and after a restart every
 * one of the 500 events must be handled: 0 lost, nothing pending.
 */
import { createBus } from 'lightbus';
import { chaosApis } from './fixtures/chaos-api.js';
import { until, type ChaosRun } from './lib/chaos-run.js';
import { check, scaled, type ChaosParams, type ScenarioOutcome } from './lib/result.js';

const EVENTS = 500;
const SLOW_MS = 100;
const GRACE_MS = 3000;
const STOP_MARGIN_MS = 5000;

export async function shutdownUnderLoad(run: ChaosRun, params: ChaosParams): Promise<ScenarioOutcome> {
  const settings = { slowMs: SLOW_MS, shutdownGraceMs: GRACE_MS, acknowledgementTimeoutMs: 3000, batchSize: 100 };
  const { slow } = chaosApis(run.prefix);
  const stream = `${slow.name}.*:stream`;
  const group = `${run.prefix}_slow-slow`;
  const firer = createBus({ config: { serviceName: `${run.prefix}_firer`, redis: { url: run.redisUrl }, logLevel: 'silent' } });
  try {
    await Promise.all(Array.from({ length: EVENTS }, (_, i) => firer.fire(slow.events.job, { key: `s${String(i).padStart(4, '0')}` })));
  } finally {
    await firer.close().catch(() => undefined);
  }
  // Started after the fires (its group starts at 0): its first read takes all 500, 100 per slot.
  const service = run.startService('slow', 'slow-0', settings);
  // Every event read and handed to a worker: 5 batches of 100 pending at once.
  let pendingAtSigterm = 0;
  await until(async () => (pendingAtSigterm = await run.pending(stream, group)) >= EVENTS, scaled(params, 60_000), 50);
  const handledBeforeSigterm = run.handled().size;
  const stop = await service.terminate(GRACE_MS + scaled(params, STOP_MARGIN_MS));
  const handledBeforeRestart = run.handled().size;
  const stoppedInTime = stop.how === 'code 0' && stop.ms <= GRACE_MS + scaled(params, STOP_MARGIN_MS);

  service.restart();
  let handled = run.handled();
  let pending = -1;
  const drained = await until(
    async () => {
      handled = run.handled();
      pending = await run.pending(stream, group);
      return handled.size >= EVENTS && pending === 0;
    },
    scaled(params, 60_000),
    250,
  );
  const lost = EVENTS - handled.size;
  const handledTotal = [...handled.values()].reduce((a, b) => a + b, 0);
  return {
    figures: {
      events: EVENTS,
      slowMsPerEvent: SLOW_MS,
      graceMs: GRACE_MS,
      pendingAtSigterm,
      handledBeforeSigterm,
      handledBeforeRestart,
      stoppedWith: stop.how,
      stopMs: stop.ms,
      handledAfterRestart: handled.size,
      duplicates: handledTotal - handled.size,
      lost,
      pendingAfter: pending,
    },
    checks: [
      check('in flight at SIGTERM', pendingAtSigterm >= EVENTS, `${pendingAtSigterm} events read and unacknowledged when SIGTERM was sent (want ${EVENTS})`),
      check('stopped gracefully in time', stoppedInTime, `ended with ${stop.how} after ${stop.ms} ms (grace ${GRACE_MS} ms + margin)`),
      check('lost', lost === 0 && drained, `${lost} of ${EVENTS} never handled (must be 0)`),
      check('nothing pending', pending === 0, `${pending} pending after the restart drained`),
    ],
  };
}
