/**
 * `lightbus dashboard`: opens an Inspector, builds the app and listens. What it holds on
 * Redis is what inspect holds (one plain connection, the schema and presence readers), plus a
 * blocking connection for the event tail while a page is open and a bus once a call is made.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { Inspector } from '../inspect/inspector.js';
import { isLoopbackHost, resolveToken } from './access.js';
import { Actions } from './actions.js';
import { createApp } from './app.js';
import { loadAssets } from './assets.js';
import { LiveHub } from './live.js';

export interface DashboardOptions {
  config: ResolvedConfig;
  logger: Logger;
  host: string;
  /** 0: a free port. */
  port: number;
  /** undefined: a random one (loopback only). */
  token: string | undefined;
  /** How often the overview is read while a page is open. */
  pollMs?: number;
}

export interface RunningDashboard {
  /** Where it listens, e.g. http://127.0.0.1:4400/ */
  url: string;
  /** The URL with the token in its fragment (the page reads it from there; it is never sent in a request line). */
  urlWithToken: string;
  token: string;
  close(): Promise<void>;
}

export const DEFAULT_POLL_MS = 2000;

/**
 * @throws TypeError for settings that would expose the bus (./access.ts), and
 *   RedisUnreachableError when Redis does not answer.
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const token = resolveToken({ host: options.host, token: options.token });
  const assets = loadAssets();
  const inspector = await Inspector.open(options.config, options.logger);
  const hub = new LiveHub(inspector, options.logger, options.pollMs ?? DEFAULT_POLL_MS);
  const actions = new Actions(inspector, options.logger);
  const loopback = isLoopbackHost(options.host);
  const app = createApp({ inspector, hub, actions, assets, token, loopback, logger: options.logger });
  let server: ServerType;
  try {
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: options.host.replace(/^\[(.*)\]$/, '$1'), port: options.port }, () => resolve(s));
      s.once('error', reject);
    });
  } catch (error) {
    await inspector.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostInUrl}:${address.port}/`;
  return {
    url,
    urlWithToken: `${url}#token=${encodeURIComponent(token)}`,
    token,
    async close() {
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open event streams would keep close() waiting forever.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await actions.close();
      await inspector.close();
    },
  };
}
