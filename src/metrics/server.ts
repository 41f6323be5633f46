/**
 * The HTTP server of `lightbus run --metrics-port`: `/metrics` (Prometheus text), `/healthz`
 * and `/readyz` (JSON, 200 or 503), on one port in the main thread. A main thread that is
 * stuck answers none of them, which is what a probe with a timeout should see.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ProbeReport } from '../runtime/health.js';
import type { PrometheusMetrics } from './prometheus.js';

export interface ProbeSource {
  health(): Promise<ProbeReport>;
  readiness(): ProbeReport;
}

export interface MetricsServer {
  /** The port it listens on (the one picked, when asked for 0). */
  readonly port: number;
  close(): Promise<void>;
}

const ENDPOINTS = '/metrics, /healthz, /readyz';

export async function startMetricsServer(listen: { host: string; port: number }, metrics: PrometheusMetrics, probes: ProbeSource, logger: Logger): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    void respond(request, response, metrics, probes).catch((error: unknown) => {
      logger.error({ err: error, path: request.url }, 'metrics server could not answer');
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end('internal error\n');
    });
  });
  // A probe's connection must not hold the process open, nor a stop wait for keep-alive sockets.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${listen.host}:${listen.port}`;
      if (error.code === 'EADDRINUSE') reject(new Error(`metrics.port: ${where} is already in use: give another port (--metrics-port or metrics.port in the config file), or 0 for any free one`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(new Error(`metrics.host: cannot listen on ${listen.host}, not an address of this host: use 127.0.0.1, 0.0.0.0 or one of its addresses`));
      else reject(new Error(`the metrics server cannot listen on ${where}: ${error.message}`));
    });
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  logger.info({ host: listen.host, port, endpoints: ENDPOINTS }, `metrics server listening on http://${listen.host}:${port}`);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function respond(request: IncomingMessage, response: ServerResponse, metrics: PrometheusMetrics, probes: ProbeSource): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    return void response.end('only GET and HEAD\n');
  }
  const path = (request.url ?? '/').split('?')[0];
  switch (path) {
    case '/metrics': {
      const text = await metrics.scrape();
      response.writeHead(200, { 'content-type': metrics.contentType });
      return void response.end(request.method === 'HEAD' ? undefined : text);
    }
    case '/healthz':
      return probe(response, await probes.health());
    case '/readyz':
      return probe(response, probes.readiness());
    default:
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end(`not found: ${path}; this server answers ${ENDPOINTS}\n`);
  }
}

function probe(response: ServerResponse, report: ProbeReport): void {
  response.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(`${JSON.stringify({ status: report.ok ? 'ok' : 'failing', checks: report.checks })}\n`);
}
