/**
 * Events under chaos: 2 `lightbus run` processes of one service (2 workers each) listen while
 * a separate process fires 10,000 events with unique keys (retrying rejected fires). About
 * `poisonPercent` % of the keys make their handler kill its worker thread; every few seconds
 * one process is SIGKILLed and started again; Redis is SIGKILLed and restarted twice. Then
 * the suite waits for the drain and counts: accepted, handled, dead-lettered, lost (accepted
 * but neither handled nor dead-lettered), duplicates, pending.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../lib/children.js';
import { withTimeout } from '../lib/measure.js';
import { isPoison } from './fixtures/chaos-api.js';
import { until, type ChaosRun } from './lib/chaos-run.js';
import { check, scaled, type ChaosParams, type ScenarioOutcome } from './lib/result.js';
import { ChaosSchedule } from './lib/schedule.js';

const EVENTS = 10_000;
const RATE_PER_S = 400;
const BATCH_SIZE = 50;
const CONCURRENCY = 2;
const PROCESSES = 2;

interface FirerDone {
  accepted: number;
  rejections: number;
  gaveUp: number;
  rejectionNames: Record<string, number>;
  firingMs: number;
}

export async function eventsUnderChaos(run: ChaosRun, params: ChaosParams): Promise<ScenarioOutcome> {
  const settings = { batchSize: BATCH_SIZE, acknowledgementTimeoutMs: 5000, poisonPercent: params.poisonPercent };
  const services = Array.from({ length: PROCESSES }, (_, i) => run.startService('events', `events-${i}`, settings));
  for (const service of services) {
    if (!(await run.untilRegistered(service.child, scaled(params, 60_000)))) throw new Error(`lightbus run did not start:\n${service.child.tail()}`);
  }
  const stream = `${run.prefix}_ev.*:stream`;
  const group = `${run.prefix}_events-handler`;
  const acceptedFile = join(run.tmpDir, 'accepted.log');

  const firer = fork(join(repoRoot, 'bench/chaos/fixtures/firer.ts'), [run.redisUrl, run.prefix, String(EVENTS), String(RATE_PER_S), acceptedFile, String(scaled(params, 120_000))], {
    execArgv: ['--import', 'tsx'],
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killFirer = () => firer.kill('SIGKILL');
  process.once('exit', killFirer);
  const messages: Array<{ type: string } & Partial<FirerDone>> = [];
  firer.on('message', (message) => messages.push(message as { type: string }));
  const exited = new Promise<void>((resolve) => firer.once('exit', () => resolve()));
  try {
    if (!(await until(() => messages.some((m) => m.type === 'ready'), scaled(params, 30_000), 50))) throw new Error('the firing process did not start');
    const firingStarted = Date.now();
    const firingMs = (EVENTS / RATE_PER_S) * 1000;
    const schedule = new ChaosSchedule(run, services, {
      processKillEveryMs: 4000,
      redisKillsAtMs: [firingMs / 3, (2 * firingMs) / 3],
      redisDownMs: 1000,
      restartWaitMs: scaled(params, 60_000),
    });
    const fired = await until(() => messages.some((m) => m.type === 'done'), scaled(params, 150_000));
    const kills = await schedule.stop();
    const firingEnded = Date.now();
    const done = messages.find((m) => m.type === 'done') as FirerDone | undefined;
    await withTimeout(exited, 10_000, 'the firing process exiting').catch(killFirer);

    const accepted = new Set(readFileSync(acceptedFile, 'utf8').split('\n').filter(Boolean));
    const poison = [...accepted].filter((key) => isPoison(key, params.poisonPercent));
    // Drained: every accepted key handled or dead-lettered, and nothing pending.
    let handled = run.handled();
    let dead = await run.deadLetters(stream).catch(() => undefined);
    let pending = -1;
    const lostNow = () => [...accepted].filter((key) => !handled.has(key) && !dead?.keys.has(key)).length;
    const drained = await until(
      async () => {
        handled = run.handled();
        dead = await run.deadLetters(stream);
        pending = await run.pending(stream, group);
        return lostNow() === 0 && pending === 0;
      },
      scaled(params, 120_000),
      500,
    );
    const drainMs = Date.now() - firingEnded;
    const lost = lostNow();
    const handledTotal = [...handled.values()].reduce((a, b) => a + b, 0);
    const duplicates = handledTotal - handled.size;
    // A killed process may have handled what it had read but not acknowledged yet (batch x
    // concurrency); a Redis kill may lose both processes' unconfirmed acks; a retried fire may
    // have been written twice.
    const duplicateBound = kills.processKills * BATCH_SIZE * CONCURRENCY + kills.redisKills * PROCESSES * BATCH_SIZE * CONCURRENCY + (done?.rejections ?? 0);
    const lostPoison = poison.filter((key) => !dead?.keys.has(key)).length;
    return {
      figures: {
        fired: EVENTS,
        accepted: accepted.size,
        fireRejections: done?.rejections ?? -1,
        fireRejectionsByError: done?.rejectionNames ?? {},
        fireGaveUp: done?.gaveUp ?? -1,
        firingMs: firingEnded - firingStarted,
        processKills: kills.processKills,
        redisKills: kills.redisKills,
        poisonKeys: poison.length,
        handled: handled.size,
        handledTotal,
        duplicates,
        duplicateBound,
        deadLettered: dead?.count ?? -1,
        lost,
        lostPoison,
        pendingAfterDrain: pending,
        drainMs: drained ? drainMs : `not drained after ${drainMs}`,
      },
      checks: [
        check('every fire finished in time', fired && (done?.gaveUp ?? 1) === 0, `fired ${done?.accepted ?? '?'} of ${EVENTS}, gave up on ${done?.gaveUp ?? '?'}`),
        check('lost', lost === 0, `${lost} accepted events neither handled nor dead-lettered (must be 0); ${lostPoison} of them poison`),
        check('pending after drain', pending === 0, `${pending} pending (must be 0)`),
        check('duplicates bounded', duplicates <= duplicateBound, `${duplicates} duplicates (bound ${duplicateBound}: kills x in-flight + fire retries)`),
        check('redis restarts', kills.redisRestartFailures === 0, `${kills.redisRestartFailures} failed restarts`),
      ],
    };
  } finally {
    killFirer();
    process.removeListener('exit', killFirer);
  }
}
