/**
 * The example bus (examples/bus.ts, under `lightbus run`) and `lightbus dashboard`, both real
 * CLI children, on a private redis-server: the example serves `auth` under the service name
 * `example`, which other tests on the shared Redis may use too. Shared by the dashboard tests
 * and `npm run screenshots`.
 */
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { encodeDeadLetter, encodeEvent } from '../../src/transport/wire/events.js';
import { spawnCli } from '../inspect/cli-runner.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

export const DEAD_LETTER_STREAM = 'lightbus:dead_letter:stream';
export const EXAMPLE_GROUP = 'example-send_welcome_email';
export const EXAMPLE_STREAM = 'auth.*:stream';
const START_TIMEOUT_MS = 30_000;

export interface Child {
  process: ChildProcessWithoutNullStreams;
  output(): string;
}

export interface ExampleBus {
  redisServer: RedisServer;
  /** A plain client of the private Redis, for seeding and checking. */
  redis: Redis;
  bus: Child;
  dashboard: Child;
  /** http://127.0.0.1:PORT/ */
  url: string;
  token: string;
  /** The printed URL, with the token after '#'. */
  pageUrl: string;
  stop(): Promise<void>;
}

function start(args: string[]): Child {
  const child = spawnCli(args);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return { process: child, output: () => output };
}

async function stopChild(child: Child): Promise<void> {
  const p = child.process;
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = once(p, 'exit');
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Starts Redis, the example bus and a dashboard (extra flags appended), and waits until the dashboard shows the bus's process and group. */
export async function startExampleBus(dashboardFlags: string[] = []): Promise<ExampleBus> {
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const bus = start(['run', 'examples/bus.ts', '--workers', '1', '--redis-url', redisServer.url]);
  const dashboard = start(['dashboard', '--port', '0', '--redis-url', redisServer.url, ...dashboardFlags]);
  const stop = async () => {
    await Promise.all([stopChild(bus), stopChild(dashboard)]);
    redis.disconnect();
    await redisServer.stop();
  };
  try {
    const pageUrl = await waitFor(
      () => {
        if (dashboard.process.exitCode !== null) throw new Error(`lightbus dashboard exited: ${dashboard.output()}`);
        return /lightbus dashboard: (\S+)/.exec(dashboard.output())?.[1];
      },
      'the dashboard to print its URL',
      START_TIMEOUT_MS,
      50,
    );
    const url = pageUrl.replace(/#.*$/, '');
    const token = decodeURIComponent(new URL(pageUrl).hash.replace(/^#token=/, ''));
    await waitFor(
      async () => {
        if (bus.process.exitCode !== null) throw new Error(`lightbus run exited: ${bus.output()}`);
        const headers = { Authorization: `Bearer ${token}` };
        const overview = (await (await fetch(`${url}api/overview`, { headers })).json()) as { processes: Array<{ status: string }>; groups: Array<{ group: string }> };
        return overview.processes.some((p) => p.status === 'live') && overview.groups.some((g) => g.group === EXAMPLE_GROUP);
      },
      'the example bus to be up (a live process and its consumer group)',
      START_TIMEOUT_MS,
      200,
    );
    return { redisServer, redis, bus, dashboard, url, token, pageUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A dead letter as a listener of the example would leave it: a `user_registered` event the
 * group `example-send_welcome_email` gave up on. Returns its id in the dead-letter stream.
 */
export async function seedDeadLetter(redis: Redis, params: { username: string; email: string }, reason = 'Error: the mail server refused the message'): Promise<string> {
  const fields = encodeEvent({ id: randomUUID(), api: 'auth', event: 'user_registered', version: 1, kwargs: params });
  const letter = encodeDeadLetter({ stream: EXAMPLE_STREAM, streamId: `${Date.now()}-0`, group: EXAMPLE_GROUP, reason, fields, time: new Date() });
  return (await redis.xadd(DEAD_LETTER_STREAM, '*', ...letter))!;
}

export const CHROMIUM = '/usr/bin/chromium';

/** Why the page tests cannot run here, or undefined when Chromium is installed. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) to run the page tests`;
}

/** Headless Chromium with a fresh profile; close() also deletes the profile. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'lightbus-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
