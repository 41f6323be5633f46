/**
 * A Redis that refuses BLMPOP: Redis 6.2 has no such command (reproduced here by renaming it
 * away on a private redis-server), and an ACL written before lightbus used it lacks +blmpop.
 * The bus pops with BLPOP instead (transport/redis/blocking-pop.ts), says so once per reader,
 * and every call of a burst is answered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBus, defineApi, rpc, Type } from '../../src/index.js';
import { refusesBlmpop } from '../../src/transport/redis/blocking-pop.js';
import { capturingLogger } from '../helpers/events.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { uniqueName } from '../helpers/wait.js';

const FALLBACK_LINE = /^this Redis refuses BLMPOP/;
const BURST = 40;
/** Who pops: the server's call consumer, and the result listener of each bus (a bus listens for results from its start). */
const READERS = ['noblmpop-caller/rpc-results', 'noblmpop-server/rpc-consumer', 'noblmpop-server/rpc-results'];

const api = defineApi(uniqueName('noblmpop'), {
  rpcs: { double: rpc({ n: Type.Integer() }, Type.Integer()) },
});

/** A server and a caller on `url`: a burst of calls in flight at once is answered, each right. */
async function burstOfCalls(url: string): Promise<string[]> {
  const log = capturingLogger();
  const server = createBus({ config: { serviceName: 'noblmpop-server', redis: { url } }, logger: log.logger });
  const caller = createBus({ config: { serviceName: 'noblmpop-caller', redis: { url } }, logger: log.logger });
  try {
    await server.serve(api, { double: ({ n }) => 2 * n });
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(Array.from({ length: BURST }, (_, n) => caller.call(api.rpcs.double, { n }, { timeoutMs: 10_000 })));
      assert.deepEqual(answers, Array.from({ length: BURST }, (_, n) => 2 * n));
    }
    assert.deepEqual(log.records.filter((r) => r.level >= 40).map((r) => r.msg), [], 'no warning, no error');
    return log.records.filter((r) => FALLBACK_LINE.test(String(r.msg))).map((r) => `${String(r['service'])}/${String(r['component'])}`);
  } finally {
    await Promise.all([server.close(), caller.close()]);
  }
}

describe('a Redis that refuses BLMPOP', () => {
  let renamed: RedisServer;
  let restricted: RedisServer;

  before(async () => {
    [renamed, restricted] = await Promise.all([startRedisServer({ extraArgs: ['--rename-command', 'BLMPOP', ''] }), startRedisServer()]);
  });
  after(async () => {
    await Promise.all([renamed?.stop(), restricted?.stop()]);
  });

  test('without the command (Redis 6.2): calls and results travel by BLPOP, said once by each reader', async () => {
    const probe = new Redis(renamed.url);
    try {
      const refused = await probe.blmpop(0.01, 1, 'x', 'LEFT').catch((error: unknown) => error);
      assert.ok(refusesBlmpop(refused), `the server refuses BLMPOP: ${String(refused)}`);
    } finally {
      probe.disconnect();
    }
    // The server's call consumer and both buses' result listeners each say it once.
    assert.deepEqual((await burstOfCalls(renamed.url)).sort(), READERS);
  });

  test('under an ACL without +blmpop: the same', async () => {
    const admin = new Redis(restricted.url);
    try {
      await admin.call('ACL', 'SETUSER', 'old-acl', 'reset', 'on', '>pw', '+@all', '-blmpop', '~*', '&*');
    } finally {
      admin.disconnect();
    }
    assert.deepEqual((await burstOfCalls(`redis://old-acl:pw@127.0.0.1:${restricted.port}/0`)).sort(), READERS);
  });

  test('other errors are not taken for a refused BLMPOP', () => {
    assert.equal(refusesBlmpop(new Error("NOPERM No permissions to access a key")), false);
    assert.equal(refusesBlmpop(new Error('Connection is closed.')), false);
    assert.equal(refusesBlmpop(new Error("ERR unknown command `BLMPOP`, with args beginning with: '2' '1' ")), true);
    assert.equal(refusesBlmpop(new Error("NOPERM User old-acl has no permissions to run the 'blmpop' command")), true);
  });
});
