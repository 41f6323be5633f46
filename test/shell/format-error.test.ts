// How the shell prints a RemoteError whose cause is the remote error rebuilt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RemoteError } from '../../src/errors.js';
import { formatError } from '../../src/shell/format.js';

test("a RemoteError prints the remote stack once and the remote error's own causes, not the remote error again", () => {
  const storage = new Error('storage full');
  const quota = Object.assign(new Error('ada is over quota', { cause: storage }), { name: 'QuotaError' });
  const error = new RemoteError('RPC a.b failed remotely: QuotaError: ada is over quota', 'QuotaError', 'QuotaError: ada is over quota\n    at q (a.ts:1:1)', 'a', 'b', undefined, {
    cause: quota,
  });
  const printed = formatError(error, { colors: false });
  assert.equal(
    printed,
    ['RemoteError: RPC a.b failed remotely: QuotaError: ada is over quota', '  remote stack:', '    QuotaError: ada is over quota', '        at q (a.ts:1:1)', '  caused by Error: storage full'].join(
      '\n',
    ),
  );
});
