/**
 * What the shell tests share: a server (a process bus in the test process) for a unique API,
 * and the shell as a real child process, fed by a pipe or driven through a pseudo-terminal
 * (util-linux `script`, so no native module is needed).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createBus, defineApi, event, rpc, Type, type Bus } from '../../src/index.js';
import { ensureBuilt } from '../helpers/built-dist.js';
import { uniqueName } from '../helpers/wait.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = `${ROOT}bin/run.js`;
/** Bound on every wait for the shell; a healthy shell answers in well under a second. */
const WAIT_MS = 15_000;

export interface TestServer {
  /** The unique API name, e.g. `shell_1a2b3c4d`. */
  readonly name: string;
  readonly bus: Bus;
  /** Parameters of every `user_registered` event the server's listener saw. */
  readonly registered: Array<Record<string, unknown>>;
  /** Calls of `hold` waiting for {@link releaseHeld}, by tag. */
  readonly held: string[];
  releaseHeld(): void;
  /** Closes the server and deletes the keys of its API. */
  close(): Promise<void>;
}

/** Serves `check_password`, `explode` (always fails), `hold` (waits until released) and listens to `user_registered`. */
export async function startServer(): Promise<TestServer> {
  const name = uniqueName('shell');
  const api = defineApi(name, {
    rpcs: {
      check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()),
      explode: rpc({ why: Type.String() }, Type.Null()),
      hold: rpc({ tag: Type.String() }, Type.String()),
    },
    events: { user_registered: event({ username: Type.String(), email: Type.String() }) },
  });
  const bus = createBus({ config: { serviceName: uniqueName('svc'), logLevel: 'silent' } });
  const held: string[] = [];
  const releases: Array<() => void> = [];
  const registered: Array<Record<string, unknown>> = [];
  await bus.serve(api, {
    check_password: ({ username, password }) => username === 'admin' && password === 'secret',
    explode: ({ why }) => {
      throw new RangeError(`exploded: ${why}`);
    },
    hold: ({ tag }) =>
      new Promise<string>((resolve) => {
        held.push(tag);
        releases.push(() => resolve(tag));
      }),
  });
  const listener = bus.listen(api.events.user_registered, { name: 'seen' }, (e) => {
    registered.push(e.params);
  });
  await listener.ready;
  const releaseHeld = () => releases.splice(0).forEach((release) => release());
  return {
    name,
    bus,
    registered,
    held,
    releaseHeld,
    async close() {
      releaseHeld();
      await bus.close();
      const redis = new Redis();
      try {
        const keys = await redis.keys(`${name}*`);
        if (keys.length) await redis.del(...keys);
        await redis.del(`schema:${name}`);
        await redis.srem('schemas', name);
        // Results of calls the shells stopped waiting for (held calls released above) land in
        // their result lists after they left; those expire anyway, but they are ours.
        for (const service of shellServices) {
          const results = await redis.keys(`lightbus:results:${service}:*`);
          if (results.length) await redis.del(...results);
        }
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** The service names the shells of this test file ran under, to delete their keys at the end. */
const shellServices: string[] = [];

/** The arguments of `lightbus shell` in every test: its own service name, quiet logs. */
function shellArgs(): string[] {
  const service = uniqueName('shellsvc');
  shellServices.push(service);
  return ['shell', '--service-name', service, '--log-level', 'error'];
}

export { ensureBuilt };

export interface PipedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `lightbus shell` with `script` piped to its stdin, then closes stdin (unless
 * `keepStdinOpen`); resolves when the shell exits by itself.
 */
export async function runPiped(script: string, options: { keepStdinOpen?: boolean } = {}): Promise<PipedRun> {
  const child = spawn(process.execPath, [BIN, ...shellArgs()], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (options.keepStdinOpen) child.stdin.write(script);
  else child.stdin.end(script);
  const code = await exitOf(child, `the piped shell to exit (stdout so far: ${JSON.stringify(stdout)})`);
  child.stdin.destroy();
  return { code, stdout, stderr };
}

/** Resolves with the exit code, or kills the child (by pid) and throws after {@link WAIT_MS}. */
export async function exitOf(child: ChildProcess, what: string, timeoutMs = WAIT_MS): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = new AbortController();
  const outcome = await Promise.race([exited, sleep(timeoutMs, 'timeout' as const, { signal: timer.signal }).catch(() => 'cancelled' as const)]);
  timer.abort();
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
  return outcome === 'cancelled' ? null : outcome;
}

/** The shell in a pseudo-terminal: keys in, screen text (ANSI codes removed) out. */
export class TerminalShell {
  private raw = '';
  private readonly child: ChildProcess;

  constructor(env: NodeJS.ProcessEnv) {
    assert.equal(spawnSync('script', ['--version']).status, 0, 'the pty tests need util-linux `script` on PATH');
    const command = [process.execPath, BIN, ...shellArgs()].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
    // -e: exit with the shell's exit code; -q: no "Script started" lines; /dev/null: no typescript file.
    this.child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, TERM: 'xterm', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.raw += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.raw += d.toString()));
  }

  /** What the terminal showed, without colours and cursor movements. */
  get text(): string {
    return plain(this.raw);
  }

  /**
   * Types `keys` and waits until the terminal echoes `echo` (for a Tab: the text it inserted).
   * Node's REPL completes only on a Tab that arrives alone (a longer chunk is taken for a
   * paste), so every Tab goes through here, after what was typed before it was taken.
   */
  async typeUntil(keys: string, echo: string): Promise<void> {
    const from = this.raw.length;
    this.type(keys);
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      // Without the grey completion preview Node shows after the cursor before any Tab.
      // eslint-disable-next-line no-control-regex
      const shown = plain(this.raw.slice(from).replace(/\u001b\[90m[^\u001b]*\u001b\[39m/g, ''));
      if (shown.includes(echo)) return;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`typing ${JSON.stringify(keys)}: the terminal did not show ${JSON.stringify(echo)}, only ${JSON.stringify(shown)}`);
      }
      await sleep(25);
    }
  }

  /** A position in {@link text}, to wait for what comes after it. */
  mark(): number {
    return this.text.length;
  }

  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Waits until the text after `since` matches; returns that text. */
  async waitFor(pattern: RegExp, since: number, what: string): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const after = this.text.slice(since);
      if (pattern.test(after)) return after;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`waiting for ${what} (${pattern}): the terminal showed ${JSON.stringify(after)}`);
      }
      await sleep(25);
    }
  }

  exited(): Promise<number | null> {
    return exitOf(this.child, `the terminal shell to exit (it showed ${JSON.stringify(this.text.slice(-300))})`);
  }

  /** Kills the shell (by pid) if a failed test left it running. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Terminal output without ANSI sequences and carriage returns. */
function plain(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return raw.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\r/g, '');
}
