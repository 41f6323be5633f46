/**
 * `lightbus shell` in a pseudo-terminal, as a person uses it: tab completion of the names on
 * the bus, results and errors, Ctrl-C stopping a wait without leaving, the history file, and
 * Ctrl-D leaving with the process exiting by itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { ensureBuilt, startServer, TerminalShell, type TestServer } from './support.js';

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const TAB = '\t';
const ENTER = '\r';

let server: TestServer;
const temp = mkdtempSync(join(tmpdir(), 'lightbus-shell-'));
const shells: TerminalShell[] = [];

before(async () => {
  ensureBuilt();
  server = await startServer();
});
after(async () => {
  for (const shell of shells) shell.kill();
  await server?.close();
  rmSync(temp, { recursive: true, force: true });
});

function openShell(historyPath: string): TerminalShell {
  const shell = new TerminalShell({ LIGHTBUS_HISTORY: historyPath });
  shells.push(shell);
  return shell;
}

test('completion, results, errors, Ctrl-C and Ctrl-D in a terminal; lines kept in the history file', async () => {
  const api = server.name;
  const historyPath = join(temp, 'history');
  writeFileSync(historyPath, "'from an earlier session'\n");
  const shell = openShell(historyPath);
  await shell.waitFor(new RegExp(`APIs on the bus: .*${api}[\\s\\S]*lightbus> $`), 0, 'the banner and the prompt');

  // bus.call('shell_1a<Tab> completes the API, check_p<Tab> the RPC and closes the string.
  let mark = shell.mark();
  await shell.typeUntil(`bus.call('${api.slice(0, 9)}`, `bus.call('${api.slice(0, 9)}`);
  await shell.typeUntil(TAB, `${api.slice(9)}.`);
  await shell.typeUntil('check_p', 'check_p');
  await shell.typeUntil(TAB, "assword'");
  shell.type(`, { username: 'admin', password: 'secret' })${ENTER}`);
  await shell.waitFor(/\ntrue\nlightbus> $/, mark, 'the result of the completed call');

  // The API object in scope completes its members too; its RPC call is awaited.
  mark = shell.mark();
  await shell.typeUntil(`${api}.check_pa`, `${api}.check_pa`);
  await shell.typeUntil(TAB, 'ssword');
  shell.type(`({ username: 'admin', password: 'wrong' })${ENTER}`);
  await shell.waitFor(/\nfalse\nlightbus> $/, mark, 'the result through the API object');

  mark = shell.mark();
  await shell.typeUntil(`.schema ${api}.expl`, `.schema ${api}.expl`);
  await shell.typeUntil(TAB, 'ode');
  shell.type(ENTER);
  const schema = await shell.waitFor(/\n\}\nlightbus> $/, mark, 'the schema of explode');
  assert.match(schema, new RegExp(`"rpc": "${api}\\.explode"`));

  // A remote failure prints its name, message and the handler's stack; the shell goes on.
  mark = shell.mark();
  shell.type(`await ${api}.explode({ why: 'in a terminal' })${ENTER}`);
  const failure = await shell.waitFor(/remote stack:[\s\S]*lightbus> $/, mark, 'the remote error');
  assert.match(failure, new RegExp(`\\nRemoteError: RPC ${api}\\.explode failed remotely: RangeError: exploded: in a terminal\\n`));
  assert.match(failure, /\n {4}RangeError: exploded: in a terminal\n {8}at explode /);

  // Ctrl-C stops waiting for a call, with await and without, and the shell stays.
  for (const [tag, line] of [
    ['awaited', `await ${api}.hold({ tag: 'awaited' }, { timeoutMs: 120000 })`],
    ['promised', `${api}.hold({ tag: 'promised' }, { timeoutMs: 120000 })`],
  ] as const) {
    mark = shell.mark();
    shell.type(`${line}${ENTER}`);
    await waitFor(() => server.held.includes(tag), `the server to be holding the "${tag}" call`, 10_000);
    shell.type(CTRL_C);
    await shell.waitFor(/\nInterrupted: stopped waiting \(Ctrl-C\)[^\n]*\nlightbus> $/, mark, `the "${tag}" wait to be interrupted`);
  }
  mark = shell.mark();
  shell.type(`20 + 22${ENTER}`);
  await shell.waitFor(/\n42\nlightbus> $/, mark, 'the shell to still evaluate after Ctrl-C');

  shell.type(CTRL_D);
  assert.equal(await shell.exited(), 0, 'Ctrl-D leaves; the process exits by itself, with code 0');

  const history = readFileSync(historyPath, 'utf8').split(/\r?\n/).filter(Boolean);
  assert.equal(history[0], '20 + 22', 'newest first, as Node writes it');
  assert.ok(history.includes(`bus.call('${api}.check_password', { username: 'admin', password: 'secret' })`), `the completed line is in the history: ${history.join(' | ')}`);
  assert.ok(history.includes(`${api}.check_password({ username: 'admin', password: 'wrong' })`));
  assert.equal(history.at(-1), "'from an earlier session'", 'the earlier history is kept');
});

test('.exit leaves too, and an earlier line comes back with the up arrow', async () => {
  const historyPath = join(temp, 'history-2');
  writeFileSync(historyPath, "'recalled ' + 'line'\n");
  const shell = openShell(historyPath);
  await shell.waitFor(/lightbus> $/, 0, 'the prompt');
  const mark = shell.mark();
  shell.type(`\u001b[A${ENTER}`);
  await shell.waitFor(/\n'recalled line'\nlightbus> $/, mark, 'the recalled line to run');
  shell.type(`.exit${ENTER}`);
  assert.equal(await shell.exited(), 0);
});
