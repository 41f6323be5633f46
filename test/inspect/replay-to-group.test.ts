// `inspect dead-letters replay` gives the event again to the one group that gave up: on a
// stream with two groups, the group that handled the event does not get it a second time.
// `--all-groups` keeps the old way (every group of the stream), and a group no lightbus
// process listens as (a Python Lightbus group reads no replay stream) is refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, defineApi, event, Type, type Bus } from '../../src/index.js';
import { replayStreamKey } from '../../src/transport/replay-stream.js';
import { encodeDeadLetter, encodeEvent } from '../../src/transport/wire/events.js';
import { uniqueName, waitFor } from '../helpers/wait.js';
import { ensureBuilt, jsonLines, runCli, tempConfig } from './cli-runner.js';

const REDIS_URL = 'redis://127.0.0.1:6379/0';

describe('inspect dead-letters replay: to the group that failed', () => {
  const prefix = uniqueName('replay');
  const service = `${prefix}_svc`;
  const processName = `${prefix}-proc`;
  const apiName = `${prefix}_shop`;
  const stream = `${apiName}.*:stream`;
  const deadLetters = `${prefix}:dead_letter:stream`;
  const flakyGroup = `${service}-flaky`;
  const api = defineApi(apiName, { events: { ordered: event({ order: Type.String() }) } });
  const redis = new Redis(REDIS_URL);
  const config = tempConfig({ serviceName: `${prefix}_cli`, redis: { url: REDIS_URL }, events: { deadLetterStream: deadLetters } });
  const cli = (...args: string[]) => runCli([...args, '--config', config.path]);
  const handled: Record<'steady' | 'flaky', string[]> = { steady: [], flaky: [] };
  let flakyFails = true;
  let bus: Bus;

  before(async () => {
    ensureBuilt();
    bus = createBus({ config: { serviceName: service, processName, logLevel: 'silent', redis: { url: REDIS_URL }, events: { deadLetterStream: deadLetters } } });
    const steady = bus.listen(api.events.ordered, { name: 'steady' }, (e) => void handled.steady.push(e.params.order));
    const flaky = bus.listen(api.events.ordered, { name: 'flaky', onError: { retry: { maxAttempts: 1, backoffMs: 1 } } }, (e) => {
      handled.flaky.push(e.params.order);
      if (flakyFails) throw new Error('warehouse down');
    });
    await Promise.all([steady.ready, flaky.ready]);
    await waitFor(async () => (await redis.hget('lightbus:processes', `${service}:${processName}`))?.includes('"flaky"'), 'a heartbeat naming the listeners', 15_000);
  });

  after(async () => {
    await bus.close();
    await redis.del(stream, deadLetters, replayStreamKey(flakyGroup), replayStreamKey(`${prefix}_python-audit`));
    redis.disconnect();
    config.remove();
  });

  /** Fires an order and waits until `steady` handled it and `flaky` dead-lettered it; returns the dead letter's id. */
  async function failOnce(order: string): Promise<string> {
    flakyFails = true;
    await bus.fire(api.events.ordered, { order });
    const letter = await waitFor(async () => {
      const entries = (await redis.xrange(deadLetters, '-', '+')) as Array<[string, string[]]>;
      return entries.find(([, fields]) => fields.join('\n').includes(order));
    }, `${order} to be dead-lettered by flaky`, 15_000);
    await waitFor(() => handled.steady.includes(order), `steady to handle ${order}`, 15_000);
    flakyFails = false;
    return letter[0];
  }

  it('by default only the group that dead-lettered the event gets it again', async () => {
    const id = await failOnce('o-1');
    const replay = await cli('inspect', 'dead-letters', 'replay', id, '--json');
    assert.equal(replay.code, 0, replay.stderr);
    const [replayed] = jsonLines(replay.stdout);
    assert.equal(replayed!['group'], flakyGroup);
    assert.equal(replayed!['stream'], replayStreamKey(flakyGroup));
    assert.deepEqual(await redis.xrange(deadLetters, id, id), []);

    await waitFor(() => handled.flaky.filter((o) => o === 'o-1').length === 2, 'flaky to handle the replayed o-1', 30_000);
    // A marker behind the replay on the event stream: once steady has it, steady has seen everything before it.
    await bus.fire(api.events.ordered, { order: 'marker-1' });
    await waitFor(() => handled.steady.includes('marker-1') && handled.flaky.includes('marker-1'), 'both to handle the marker', 15_000);
    assert.deepEqual(handled.steady.filter((o) => o === 'o-1'), ['o-1'], 'the group that handled o-1 did not get it again');
    await waitFor(async () => Number(((await redis.xpending(replayStreamKey(flakyGroup), flakyGroup)) as [number])[0]) === 0, 'the replay to be acknowledged', 15_000);
  });

  it('--all-groups puts it back on its stream, for every group', async () => {
    const id = await failOnce('o-2');
    const replay = await cli('inspect', 'dead-letters', 'replay', id, '--all-groups', '--json');
    assert.equal(replay.code, 0, replay.stderr);
    const [replayed] = jsonLines(replay.stdout);
    assert.equal(replayed!['group'], null);
    assert.equal(replayed!['stream'], stream);
    await waitFor(() => handled.steady.filter((o) => o === 'o-2').length === 2 && handled.flaky.filter((o) => o === 'o-2').length === 2, 'both groups to get o-2 again', 15_000);
  });

  it('refuses a group that no lightbus process listens as, naming --all-groups', async () => {
    const group = `${prefix}_python-audit`;
    const fields = encodeEvent({ id: 'm-1', api: apiName, event: 'ordered', version: 1, kwargs: { order: 'o-3' } });
    const id = (await redis.xadd(deadLetters, '*', ...encodeDeadLetter({ stream, streamId: '1-0', group, reason: 'failed in Python', fields, time: new Date() }))) as string;
    const replay = await cli('inspect', 'dead-letters', 'replay', id);
    assert.notEqual(replay.code, 0);
    assert.match(replay.stderr, new RegExp(`group "${group}", which no lightbus process on the bus listens as`));
    assert.match(replay.stderr, /--all-groups/);
    assert.equal((await redis.xrange(deadLetters, id, id)).length, 1, 'the dead letter is kept');
    assert.equal(await redis.exists(replayStreamKey(group)), 0);
  });
});
