/**
 * Malformed input flood: 10,000 malformed entries XADDed straight onto a listener's stream,
 * interleaved with 1,000 valid events, at one `lightbus run` (2 workers); then raw malformed
 * RPC messages, calls whose return path names a key that is no result list, and a 10 MB
 * parameter. The process must not crash, must handle every valid event, dead-letter every
 * malformed entry, leave nothing pending, keep its log bounded and keep serving.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createBus, LightbusError } from 'lightbus';
import { chaosApis } from './fixtures/chaos-api.js';
import { until, type ChaosRun } from './lib/chaos-run.js';
import { check, scaled, type ChaosParams, type ScenarioOutcome } from './lib/result.js';

const VALID = 1000;
const MALFORMED_PER_VALID = 10;
const HUGE_FIELDS = 10;
const MB = 1024 * 1024;

/** The kinds of malformed entry, in turn. */
const KINDS = ['missing id', 'missing api_name', 'missing event_name', 'invalid JSON', 'wrong parameter type', 'wrong version type', 'unknown event', 'huge field', 'binary junk', 'empty values'] as const;
type Kind = (typeof KINDS)[number];

export async function malformedFlood(run: ChaosRun, params: ChaosParams): Promise<ScenarioOutcome> {
  const service = run.startService('flood', 'flood-0', { acknowledgementTimeoutMs: 10_000 });
  if (!(await run.untilRegistered(service.child, scaled(params, 60_000)))) throw new Error(`lightbus run did not start:\n${service.child.tail()}`);
  const { flood, rpcs } = chaosApis(run.prefix);
  const stream = `${flood.name}.*:stream`;
  const group = `${run.prefix}_flood-flood`;
  const logBefore = service.logVolume();

  // 1. The event flood, in pipelines of 200 entries.
  const byKind = new Map<Kind, number>();
  let huge = 0;
  const started = Date.now();
  let pipeline = run.client.pipeline();
  let queued = 0;
  for (let v = 0; v < VALID; v++) {
    pipeline.xadd(stream, '*', ...validEntry(flood.name, `v${String(v).padStart(5, '0')}`));
    for (let m = 0; m < MALFORMED_PER_VALID; m++) {
      const kind = KINDS[(v * MALFORMED_PER_VALID + m) % KINDS.length]!;
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      const fields = malformedEntry(kind, flood.name, kind === 'huge field' && huge++ < HUGE_FIELDS ? MB : 1024);
      pipeline.xadd(stream, '*', ...fields);
    }
    if (++queued % 20 === 0) {
      await pipeline.exec();
      pipeline = run.client.pipeline();
    }
  }
  await pipeline.exec();
  const malformed = VALID * MALFORMED_PER_VALID;

  let handled = run.handled();
  let dead = await run.deadLetters(stream);
  let pending = -1;
  const settled = await until(
    async () => {
      handled = run.handled();
      dead = await run.deadLetters(stream);
      pending = await run.pending(stream, group);
      return handled.size >= VALID && dead.count >= malformed && pending === 0;
    },
    scaled(params, 120_000),
    500,
  );
  const floodMs = Date.now() - started;
  const validDeadLettered = [...dead.keys.keys()].filter((key) => key.startsWith('v')).length;

  // 2. Raw malformed RPC messages, foreign return paths, a 10 MB parameter.
  const queue = `${rpcs.name}:rpc_queue`;
  const junk = rpcJunk(rpcs.name);
  for (const blob of junk) await run.client.rpush(queue, blob);
  const victimNew = `${run.prefix}:not-a-result-list`;
  const victimString = `${run.prefix}:victim-string`;
  await run.client.set(victimString, 'untouched');
  for (const victim of [victimNew, victimString]) {
    const id = randomUUID();
    await run.client.set(`rpc_expiry_key:${id}`, '1', 'PX', 5000);
    await run.client.rpush(queue, JSON.stringify({ kwargs: { n: 1 }, metadata: { api_name: rpcs.name, id, procedure_name: 'echo', return_path: `redis+key://${victim}` } }));
  }
  const caller = createBus({ config: { serviceName: `${run.prefix}_caller`, redis: { url: run.redisUrl }, logLevel: 'silent' } });
  let bigResult: string;
  let servingAfter = false;
  try {
    // Both foreign calls were popped once a later call is answered: the queue is served in order.
    servingAfter = (await caller.call(rpcs.rpcs.echo, { n: 7 }, { timeoutMs: scaled(params, 10_000) }).catch(() => undefined)) === 7;
    const text = 'x'.repeat(10 * MB);
    bigResult = await caller.call(rpcs.rpcs.size, { text }, { timeoutMs: scaled(params, 30_000) }).then(
      (length) => (length === text.length ? 'answered the right length' : `answered ${String(length)}`),
      (error: Error) => `${error instanceof LightbusError ? 'typed' : 'UNTYPED'} error ${error.name}: ${error.message.slice(0, 120)}`,
    );
    servingAfter = servingAfter && (await caller.call(rpcs.rpcs.echo, { n: 8 }, { timeoutMs: scaled(params, 10_000) }).catch(() => undefined)) === 8;
  } finally {
    await caller.close().catch(() => undefined);
  }
  const victimNewType = await run.client.type(victimNew);
  const victimStringValue = await run.client.get(victimString).catch((error: Error) => `(${error.message})`);
  const alive = service.child.alive();
  const log = service.logVolume();
  const logBytes = log.bytes - logBefore.bytes;
  const logLines = log.lines - logBefore.lines;
  const stacks = log.stacks - logBefore.stacks;
  const badInputs = malformed + junk.length + 2;
  const maxStacks = 20;
  return {
    figures: {
      valid: VALID,
      malformed,
      malformedByKind: Object.fromEntries(byKind),
      hugeFields: `${HUGE_FIELDS} x 1 MB`,
      validHandled: handled.size,
      deadLettered: dead.count,
      deadLetteredByReason: Object.fromEntries(dead.reasons),
      validDeadLettered,
      pendingAfter: pending,
      floodMs,
      rpcJunk: junk.length,
      bigParameter: bigResult,
      servingAfter: String(servingAfter),
      foreignReturnPathNewKey: victimNewType,
      foreignReturnPathStringKey: victimStringValue ?? '(gone)',
      processAlive: String(alive),
      workerStarts: service.starts,
      logBytes,
      logLines,
      logStackTraces: stacks,
      logBytesPerBadInput: Math.round(logBytes / badInputs),
    },
    checks: [
      check('no crash', alive && service.starts === 1, `process alive: ${alive}`),
      check('valid handled', handled.size === VALID, `${handled.size} of ${VALID} valid events handled`),
      check('malformed dead-lettered', dead.count === malformed && settled, `${dead.count} of ${malformed} malformed entries in the dead-letter stream`),
      check('valid not dead-lettered', validDeadLettered === 0, `${validDeadLettered} valid events dead-lettered`),
      check('nothing pending', pending === 0, `${pending} pending`),
      check('log bounded', stacks <= maxStacks && logLines <= 2 * badInputs + 100, `${logBytes} bytes, ${logLines} lines, ${stacks} stack traces for ${badInputs} bad inputs (at most ${maxStacks} stacks, 2 lines each)`),
      check('keeps serving', servingAfter, `echo answered after the junk and the 10 MB parameter: ${servingAfter}; 10 MB parameter: ${bigResult}`),
      check(
        'foreign return path refused',
        victimNewType === 'none' && victimStringValue === 'untouched',
        `key outside result lists: ${victimNewType === 'none' ? 'not created' : `became a ${victimNewType}`}; string key: ${JSON.stringify(victimStringValue)}`,
      ),
    ],
  };
}

function validEntry(api: string, key: string): string[] {
  return ['id', randomUUID(), 'api_name', api, 'event_name', 'valid', 'version', '1', ':key', JSON.stringify(key)];
}

function malformedEntry(kind: Kind, api: string, hugeBytes: number): Array<string | Buffer> {
  const id = randomUUID();
  const key = JSON.stringify(`m-${id}`);
  switch (kind) {
    case 'missing id':
      return ['api_name', api, 'event_name', 'valid', 'version', '1', ':key', key];
    case 'missing api_name':
      return ['id', id, 'event_name', 'valid', 'version', '1', ':key', key];
    case 'missing event_name':
      return ['id', id, 'api_name', api, 'version', '1', ':key', key];
    case 'invalid JSON':
      return ['id', id, 'api_name', api, 'event_name', 'valid', 'version', '1', ':key', '{"unterminated'];
    case 'wrong parameter type':
      return ['id', id, 'api_name', api, 'event_name', 'valid', 'version', '1', ':key', '12345'];
    case 'wrong version type':
      return ['id', id, 'api_name', api, 'event_name', 'valid', 'version', 'one', ':key', key];
    case 'unknown event':
      // An API this stream does not carry: no listener of it can ever want the entry.
      return ['id', id, 'api_name', `${api}_nosuch`, 'event_name', 'valid', 'version', '1', ':key', key];
    case 'huge field':
      return ['id', id, 'api_name', api, 'event_name', 'valid', 'version', '1', ':key', `"${'x'.repeat(hugeBytes)}`];
    case 'binary junk':
      return [randomBytes(8), randomBytes(64), randomBytes(3), randomBytes(200)];
    case 'empty values':
      return ['id', '', 'api_name', '', 'event_name', '', 'version', ''];
  }
}

/** Call blobs no server can run: not JSON, the wrong shapes, binary, empty, 1 MB. */
function rpcJunk(api: string): Array<string | Buffer> {
  const meta = { api_name: api, id: randomUUID(), procedure_name: 'echo', return_path: 'redis+key://nowhere' };
  const blobs: Array<string | Buffer> = [
    'not json',
    '',
    '{}',
    '[]',
    'null',
    '{"metadata": {}}',
    JSON.stringify({ kwargs: 5, metadata: meta }),
    JSON.stringify({ kwargs: {}, metadata: { ...meta, id: 5 } }),
    JSON.stringify({ kwargs: {}, metadata: { ...meta, procedure_name: 'nosuch' } }),
    JSON.stringify({ kwargs: { n: 'not a number' }, metadata: meta }),
    JSON.stringify({ kwargs: {}, metadata: { ...meta, return_path: 'http://example.invalid/' } }),
    `{"kwargs": {"n": 1}, "metadata": ${'['.repeat(100_000)}`,
    'x'.repeat(MB),
  ];
  for (let i = 0; i < 37; i++) blobs.push(randomBytes(16 + i * 7));
  return blobs;
}
