/**
 * `lightbus shell` with a script piped to stdin: the lines run one after the other against a
 * real server, results and errors are printed, and the shell exits by itself at the end.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { ensureBuilt, runPiped, startServer, type TestServer } from './support.js';

let server: TestServer;

before(async () => {
  ensureBuilt();
  server = await startServer();
});
after(async () => {
  await server?.close();
});

test('a piped script runs line by line: awaited results, promises awaited, events fired, then exit 0', async () => {
  const api = server.name;
  const { code, stdout, stderr } = await runPiped(
    [
      `const ok = await ${api}.check_password({ username: 'admin', password: 'secret' })`,
      `'ok is ' + ok`,
      `bus.call('${api}.check_password', { username: 'admin', password: 'wrong' })`,
      `const registration = {`,
      `  username: 'ada', email: 'ada@example.com' }`,
      `api('${api}').user_registered(registration)`,
      `'the end'`,
    ].join('\n'),
  );
  assert.equal(code, 0, `stderr: ${stderr}`);
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines[0], "'ok is true'", 'a line after an awaited one sees its result');
  assert.equal(lines[1], 'false', 'a promise a line evaluates to is awaited and printed');
  assert.match(lines.slice(2, -1).join('\n'), /^\{\s*id: '[0-9a-f-]{36}',\s*streamId: '\d+-\d+'\s*\}$/, 'fire prints its ids');
  assert.equal(lines.at(-1), "'the end'");
  assert.doesNotMatch(stdout, /lightbus>|\.\.\. /, 'no prompts in a script');
  await waitFor(() => server.registered.length === 1, 'the server to receive the event');
  assert.deepEqual(server.registered[0], { username: 'ada', email: 'ada@example.com' });
});

test('errors print their name and message (and the remote stack), the script goes on, and the exit code is 1', async () => {
  const api = server.name;
  const { code, stdout } = await runPiped(
    [
      `${api}.explode({ why: 'on purpose' })`,
      `await ${api}.check_password({ username: 'admin' })`,
      `bus.call('${api}.hold', { tag: 'late' }, { timeoutMs: 300 })`,
      `no_such_variable`,
      `1 +* 2`,
      `'still running'`,
    ].join('\n'),
  );
  assert.equal(code, 1);
  assert.match(stdout, new RegExp(`^RemoteError: RPC ${api}\\.explode failed remotely: RangeError: exploded: on purpose$`, 'm'));
  assert.match(stdout, /^ {2}remote stack:\n {4}RangeError: exploded: on purpose\n {8}at explode \(.*support\.ts:\d+:\d+\)$/m, 'the stack of the handler, in the server');
  assert.match(stdout, new RegExp(`^ValidationError: ${api}\\.check_password parameters: /password`, 'm'));
  assert.match(stdout, new RegExp(`^RpcTimeoutError: RPC ${api}\\.hold timed out after 300 ms`, 'm'));
  assert.match(stdout, /^ReferenceError: no_such_variable is not defined$/m);
  assert.match(stdout, /SyntaxError: Unexpected token '\*'/);
  assert.match(stdout, /'still running'\n$/, 'the last line still ran, after every failure');
  assert.doesNotMatch(stdout, /at REPL\d|node:repl/, 'no local stack frames of the shell');
});

test('.apis and .schema read the schemas on the bus', async () => {
  const api = server.name;
  const { code, stdout } = await runPiped([`.apis ${api}`, `.schema ${api}.check_password`, `.schema ${api}.nope`].join('\n'));
  assert.equal(code, 0);
  const [listing, ...rest] = stdout.split(/\n(?=\{)/);
  assert.match(listing!, new RegExp(`^${api} {2}3 RPCs, 1 event$`, 'm'));
  assert.match(listing!, /^ {2}rpc {3}check_password\(username: string, password: string\) -> boolean$/m);
  assert.match(listing!, /^ {2}event user_registered\(username: string, email: string\)$/m);
  const schemaText = rest.join('\n');
  const json = JSON.parse(schemaText.slice(0, schemaText.lastIndexOf('}') + 1)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(json['rpc'], `${api}.check_password`);
  assert.deepEqual(json['parameters'].required, ['username', 'password']);
  assert.equal(json['response'].type, 'boolean');
  assert.match(stdout, new RegExp(`Unknown member "nope" of ${api} \\(its RPCs and events: check_password, explode, hold, user_registered\\)`));
});

test('.exit leaves at once, even with stdin still open and lines after it', async () => {
  const { code, stdout } = await runPiped(['1 + 1', '.exit', "'never printed'", ''].join('\n'), { keepStdinOpen: true });
  assert.equal(code, 0);
  assert.equal(stdout, '2\n');
});
