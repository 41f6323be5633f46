/**
 * The ioredis that `dist/` bundles (scripts/bundle-vendor.js) parses replies straight into
 * strings instead of Buffers: the build step is there, and text comes back exactly as sent,
 * multi-byte characters included, also when a reply spans many socket reads.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureBuilt } from '../helpers/built-dist.js';
import { uniqueName } from '../helpers/wait.js';

ensureBuilt();
const { Redis } = (await import(new URL('../../dist/vendor/ioredis.js', import.meta.url).href)) as typeof import('../../src/vendor/ioredis.js');
const client = new Redis('redis://127.0.0.1:6379/0');
const prefix = uniqueName('bundled');

before(async () => {
  await client.ping();
});
after(async () => {
  const keys = await client.keys(`${prefix}:*`);
  if (keys.length > 0) await client.del(...keys);
  client.disconnect();
});

test('replies are parsed into strings (the build turned returnBuffers off)', async () => {
  const reply: unknown = await client.callBuffer('ECHO', 'x');
  assert.equal(typeof reply, 'string', 'a Buffer: scripts/bundle-vendor.js did not patch the bundled ioredis');
});

test('text of every size comes back as sent, multi-byte characters across socket reads too', async () => {
  // 4-, 3- and 2-byte UTF-8 characters at every offset, about 2 MB: a reply of many chunks.
  const big = 'a😀€é'.repeat(200_000);
  const small = 'ü😀';
  await client.set(`${prefix}:big`, big);
  assert.equal(await client.get(`${prefix}:big`), big);
  await client.xadd(`${prefix}:stream`, '*', ':text', JSON.stringify(big), ':small', small);
  const [[, fields]] = (await client.xrange(`${prefix}:stream`, '-', '+')) as [[string, string[]]];
  assert.deepEqual(fields, [':text', JSON.stringify(big), ':small', small]);
});
