/**
 * A private `redis-server` on a free loopback port, for tests that must kill or restart Redis
 * (the shared server on 6379 is never touched). No persistence by default: a restart loses
 * every key, as a crashed Redis without AOF/RDB would; with `aofDir`, every write is in the
 * AOF before Redis answers (`appendfsync always`), so a SIGKILL loses nothing acknowledged
 * (the chaos suite). Stopped by pid; never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisServer {
  /** `redis://127.0.0.1:{port}/0` */
  readonly url: string;
  readonly port: number;
  /** The pid of the current server process (changes on restart). */
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL if it lingers) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL (a crash: nothing is saved) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same port after {@link kill} or {@link stop}; waits until it answers PING. */
  start(): Promise<void>;
  /** {@link kill} then {@link start}. */
  restart(): Promise<void>;
}

const START_POLL_MS = 50;
const STOP_GRACE_MS = 3000;

export interface RedisServerOptions {
  /** A directory of its own for the AOF: turns on `appendonly yes`, `appendfsync always`. */
  aofDir?: string;
  /** How long a start may take to answer PING (loading a large AOF takes a while); default 5 s. */
  startTimeoutMs?: number;
  /** Further config as command-line pairs, e.g. `['--rename-command', 'BLMPOP', '']` (a Redis without the command). */
  extraArgs?: string[];
}

/** Starts `redis-server` on a free port of 127.0.0.1 and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const persistence = options.aofDir
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.aofDir]
    : ['--appendonly', 'no'];
  let child: ChildProcess | undefined;
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  async function start(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, ...(options.extraArgs ?? []), '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    const spawned = child;
    const attempts = Math.ceil((options.startTimeoutMs ?? 5000) / START_POLL_MS);
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (spawned.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${spawned.exitCode}`);
      if (await answersPing(port)) return;
      await sleep(START_POLL_MS);
    }
    spawned.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not answer PING in time`);
  }

  async function terminate(signal: NodeJS.Signals): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill(signal);
    const lingering = await Promise.race([exited.then(() => false), sleep(STOP_GRACE_MS).then(() => true)]);
    if (lingering) {
      running.kill('SIGKILL');
      await exited;
    }
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    async stop() {
      await terminate('SIGTERM');
      process.removeListener('exit', killOnExit);
    },
    kill: () => terminate('SIGKILL'),
    start,
    async restart() {
      await terminate('SIGKILL');
      await start();
    },
  };
}

/** A port the kernel just handed out on loopback; free again once the probe closes. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** Sends an inline PING and checks for `+PONG`; false on any failure. */
export async function answersPing(port: number): Promise<boolean> {
  const socket = new Socket();
  try {
    return await new Promise<boolean>((resolve) => {
      let reply = '';
      socket.setTimeout(500, () => resolve(false));
      socket.once('error', () => resolve(false));
      socket.on('data', (chunk) => {
        reply += chunk.toString();
        if (reply.includes('\r\n')) resolve(reply.startsWith('+PONG'));
      });
      socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    });
  } finally {
    socket.destroy();
  }
}
