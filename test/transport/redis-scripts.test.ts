/**
 * The Lua scripts in src/transport/redis/lua: each header names its keys and every KEYS[n] and
 * ARGV[n] its body uses, the loader refuses a header it cannot read, and the scripts run by
 * EVALSHA on the real Redis, the dead-letter replay of `inspect` included.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Redis, type Command } from 'ioredis';
import { replayDeadLetter } from '../../src/inspect/dead-letters.js';
import { LUA_SCRIPTS, parseScript, withScripts } from '../../src/transport/redis/scripts.js';
import { encodeDeadLetter, encodeEvent } from '../../src/transport/wire/events.js';
import { uniqueName } from '../helpers/wait.js';

const LUA_DIR = new URL('../../src/transport/redis/lua/', import.meta.url);

/** The leading `--` lines, and the rest. */
function split(lua: string): { header: string[]; body: string } {
  const lines = lua.split('\n');
  const end = lines.findIndex((line) => !line.startsWith('--'));
  return { header: lines.slice(0, end), body: lines.slice(end).join('\n') };
}

test('every script has a header naming its key count and each KEYS[n] and ARGV[n] its body uses', () => {
  const files = readdirSync(LUA_DIR).filter((file) => file.endsWith('.lua'));
  assert.deepEqual(LUA_SCRIPTS.map((s) => s.file), [...files].sort(), 'the loader reads every file');
  for (const file of files) {
    const { header, body } = split(readFileSync(new URL(file, LUA_DIR), 'utf8'));
    const named = new Map<string, Array<{ from: number; open: boolean }>>([
      ['KEYS', []],
      ['ARGV', []],
    ]);
    for (const line of header) {
      const entry = /^-- (KEYS|ARGV)\[(\d+)(\.\.)?\]\s+\S/.exec(line);
      if (entry) named.get(entry[1]!)!.push({ from: Number(entry[2]), open: entry[3] !== undefined });
    }
    assert.ok(named.get('KEYS')!.length > 0 || /-- keys: 0\b/.test(header.join('\n')), `${file} names its KEYS`);
    for (const [, table, index] of body.matchAll(/\b(KEYS|ARGV)\[(\d+)\]/g)) {
      const n = Number(index);
      assert.ok(
        named.get(table!)!.some((e) => e.from === n || (e.open && e.from <= n)),
        `${file} uses ${table}[${n}], which its header does not name`,
      );
    }
    const script = LUA_SCRIPTS.find((s) => s.file === file)!;
    const keys = named.get('KEYS')!;
    if (script.numberOfKeys === undefined) {
      assert.ok(keys.some((e) => e.open), `${file} takes any number of keys: its header names a KEYS[n..] range`);
    } else {
      assert.ok(!keys.some((e) => e.open), `${file} takes ${script.numberOfKeys} keys, not a range`);
      assert.deepEqual(keys.map((e) => e.from), Array.from({ length: script.numberOfKeys }, (_, i) => i + 1), `${file}: one header line per key`);
    }
  }
});

test('a script whose header gives no key count is refused, naming its file', () => {
  assert.throws(() => parseScript('broken.lua', "-- does something\nreturn redis.call('PING')"), /broken\.lua: its header has no "-- keys: N"/);
  assert.equal(parseScript('some-thing.lua', '-- keys: 3\nreturn 1').numberOfKeys, 3);
  assert.equal(parseScript('some-thing.lua', '-- keys: any (the queues)\nreturn 1').numberOfKeys, undefined);
  assert.equal(parseScript('some-thing.lua', '-- keys: 3\nreturn 1').command, 'lightbusSomeThing');
});

test('replaying a dead letter runs its script by EVALSHA, not by sending the script text each time', async (t) => {
  const prefix = uniqueName('luascripts');
  const deadLetters = `${prefix}:dead_letter:stream`;
  const stream = `${prefix}_api.*:stream`;
  const redis = new Redis('redis://127.0.0.1:6379/0');
  t.after(async () => {
    await redis.del(deadLetters, stream);
    redis.disconnect();
  });
  const sent: string[] = [];
  const sendCommand = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Command, ...rest: unknown[]) => {
    sent.push(command.name);
    return (sendCommand as (...args: unknown[]) => unknown)(command, ...rest);
  }) as typeof redis.sendCommand;
  const letter = (n: number) =>
    redis.xadd(
      deadLetters,
      '*',
      ...encodeDeadLetter({
        stream,
        streamId: `${n}-0`,
        group: 'svc-listener',
        reason: 'failed',
        fields: encodeEvent({ id: `id-${n}`, api: `${prefix}_api`, event: 'happened', version: 1, kwargs: { n } }),
        time: new Date(),
      }),
    ) as Promise<string>;
  const first = await letter(1);
  const second = await letter(2);
  await replayDeadLetter(redis, deadLetters, first, { maxStreamLength: 1000, allGroups: true });
  // The first run may find Redis without the script (NOSCRIPT, then EVAL once); after it, EVALSHA alone.
  sent.length = 0;
  const replayed = await replayDeadLetter(redis, deadLetters, second, { maxStreamLength: 1000, allGroups: true });
  assert.deepEqual(sent, ['xrange', 'evalsha']);
  assert.equal(await redis.xlen(stream), 2);
  assert.match(replayed.streamId, /^\d+-\d+$/);
  assert.equal(withScripts(redis), redis, 'defining the scripts again changes nothing');
});
