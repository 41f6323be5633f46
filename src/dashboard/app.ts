/**
 * The dashboard's HTTP face (Hono): the page, JSON reads over src/inspect/, the live stream
 * (server-sent events, ./live.ts) and the actions (./actions.ts). Access rules are in
 * ./access.ts; every request body is bounded, every listing capped.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { Logger } from 'pino';
import { DeadLetterNotFoundError, DeadLetterUnreplayableError, getDeadLetter } from '../inspect/dead-letters.js';
import type { EventFilter } from '../inspect/events.js';
import type { Inspector } from '../inspect/inspector.js';
import { parseMemberPattern } from '../inspect/patterns.js';
import { parseTimeBound } from '../inspect/time.js';
import { bearerToken, hostHeaderAllowed, tokenMatches } from './access.js';
import type { Actions } from './actions.js';
import type { Asset } from './assets.js';
import type { LiveHub } from './live.js';
import { OverviewReader } from './overview.js';
import { boundEventRow } from './shown-event.js';

/** Request bodies larger than this are refused (413). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Most events one listing returns. */
export const MAX_EVENTS_LISTED = 500;
/** Server-sent events a page may have waiting before it is dropped as too slow. */
const MAX_QUEUED_PER_PAGE = 256;

export interface AppOptions {
  inspector: Inspector;
  hub: LiveHub;
  actions: Actions;
  assets: Map<string, Asset>;
  token: string;
  /** Loopback: check the Host header, and let reads go without the token. */
  loopback: boolean;
  logger: Logger;
}

const SECURITY_HEADERS: Record<string, string> = {
  // Only our own files: no inline script, nothing from elsewhere, no framing.
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export function createApp(options: AppOptions): Hono {
  const { inspector, hub, actions, assets, token, loopback } = options;
  const app = new Hono();
  const reader = new OverviewReader(inspector);

  app.use('*', async (c, next) => {
    if (!hostHeaderAllowed(c.req.header('host'), loopback)) {
      return c.text('this dashboard answers only to a loopback Host (open it as http://127.0.0.1:PORT/)', 421);
    }
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
  });

  // Reads: free on loopback, with the token elsewhere. EventSource cannot send a header: /api/live may take ?token=.
  app.use('/api/*', async (c, next) => {
    const given = bearerToken(c.req.header('authorization')) ?? (c.req.path === '/api/live' ? c.req.query('token') : undefined);
    const mutating = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    // What the page asks first, to know whether it must send the token with its reads.
    if (c.req.path === '/api/access' && !mutating) return c.json({ readsNeedToken: !loopback });
    if ((mutating || !loopback) && !tokenMatches(given, token)) {
      return c.json({ error: { name: 'Unauthorized', message: 'this needs the dashboard token: Authorization: Bearer TOKEN (the token is in the URL the dashboard printed)' } }, 401);
    }
    await next();
  });
  app.use('/api/*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json({ error: { name: 'PayloadTooLarge', message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` } }, 413) }));

  const asset = (name: string) => (c: Context) => {
    const found = assets.get(name);
    return found ? c.body(found.body, 200, { 'Content-Type': found.type }) : c.notFound();
  };
  app.get('/', asset('index.html'));
  app.get('/assets/:name', (c) => asset(c.req.param('name'))(c));

  app.get('/api/overview', async (c) => c.json((await reader.read()).overview));
  app.get('/api/schemas', async (c) => c.json(await inspector.schemas()));
  app.get('/api/events', async (c) => {
    const limit = Math.min(MAX_EVENTS_LISTED, Math.max(1, Number(c.req.query('limit') ?? 100) || 100));
    const rows = await inspector.events(eventFilter(c), limit);
    return c.json(rows.map(boundEventRow));
  });
  app.get('/api/dead-letters/:id', async (c) => c.json(await getDeadLetter(inspector.redis, inspector.config.events.deadLetterStream, c.req.param('id'))));

  app.get('/api/live', (c) =>
    streamSSE(c, async (stream) => {
      let queued = 0;
      let closed = false;
      let finish: () => void = () => undefined;
      // Ends when the page goes away or the hub drops it.
      const finished = new Promise<void>((resolve) => (finish = resolve));
      stream.onAbort(() => finish());
      const unsubscribe = hub.subscribe({
        send(event, data) {
          if (closed) return true;
          if (queued >= MAX_QUEUED_PER_PAGE) return false;
          queued++;
          stream.writeSSE({ event, data: JSON.stringify(data) }).then(
            () => queued--,
            () => finish(),
          );
          return true;
        },
        close() {
          finish();
        },
      });
      try {
        await finished;
      } finally {
        closed = true;
        unsubscribe();
      }
    }),
  );

  app.post('/api/call', async (c) => {
    const body = await jsonBody(c);
    const { api, procedure, params, timeoutMs } = body as { api?: unknown; procedure?: unknown; params?: unknown; timeoutMs?: unknown };
    if (typeof api !== 'string' || typeof procedure !== 'string' || api === '' || procedure === '') throw new TypeError('give "api" and "procedure" as strings');
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) throw new TypeError('"params" must be a JSON object');
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0))) throw new TypeError('"timeoutMs" must be a positive number');
    const outcome = await actions.call(api, procedure, (params ?? {}) as Record<string, unknown>, timeoutMs as number | undefined);
    return c.json(outcome, outcome.ok ? 200 : 'invalid' in outcome ? 422 : 502);
  });
  app.post('/api/dead-letters/replay-all', async (c) => {
    const body = (await jsonBody(c)) as { confirm?: unknown; allGroups?: unknown };
    // The page asks the user first; the server asks the page to say it did.
    if (body.confirm !== 'replay-all') throw new TypeError('replaying every dead letter needs {"confirm": "replay-all"}');
    return c.json(await actions.replayAll({ allGroups: body.allGroups === true }));
  });
  app.post('/api/dead-letters/:id/replay', async (c) => {
    const body = (await jsonBody(c)) as { allGroups?: unknown; force?: unknown };
    return c.json(await actions.replay(c.req.param('id'), { allGroups: body.allGroups === true, force: body.force === true }));
  });
  app.delete('/api/dead-letters/:id', async (c) => {
    await actions.delete(c.req.param('id'));
    return c.json({ deleted: c.req.param('id') });
  });

  app.onError((error, c) => {
    const status = error instanceof DeadLetterNotFoundError ? 404 : error instanceof DeadLetterUnreplayableError ? 409 : error instanceof TypeError ? 400 : 500;
    if (status === 500) options.logger.error({ err: error }, 'dashboard request failed');
    return c.json({ error: { name: error.name, message: error.message } }, status);
  });
  return app;
}

/** The request's JSON object body (an empty body is `{}`). @throws TypeError */
async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`the request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** `?api=auth&event=user_registered&since=10m&until=...` as an inspect filter. @throws TypeError */
function eventFilter(c: Context): EventFilter {
  const api = c.req.query('api') || '*';
  const event = c.req.query('event') || '*';
  const since = c.req.query('since');
  const until = c.req.query('until');
  const now = Date.now();
  return {
    patterns: api === '*' && event === '*' ? [] : [parseMemberPattern(`${api}.${event}`)],
    ...(since ? { sinceMs: parseTimeBound(since, now) } : {}),
    ...(until ? { untilMs: parseTimeBound(until, now) } : {}),
    where: [],
  };
}
