/**
 * Metrics and health for `lightbus run`: the Prometheus observer the runner is built with, and
 * the HTTP server over it and the runner's probes. Loaded only when a metrics port is set, so a
 * run without it loads none of prom-client.
 */
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import type { BusRunner } from '../runtime/runner.js';
import { PrometheusMetrics } from './prometheus.js';
import { startMetricsServer, type MetricsServer } from './server.js';

export { PrometheusMetrics } from './prometheus.js';
export type { MetricsServer } from './server.js';

/** Serves `/metrics`, `/healthz` and `/readyz` of a runner built with `metrics` as its observer. */
export function serveRunnerMetrics(runner: BusRunner, metrics: PrometheusMetrics, config: ResolvedConfig, logger: Logger): Promise<MetricsServer> {
  metrics.pullLevelsFrom(() => runner.levels());
  const listen = { host: config.metrics.host, port: config.metrics.port ?? 0 };
  return startMetricsServer(listen, metrics, { health: () => runner.health(config.metrics.redisTimeoutMs), readiness: () => runner.readiness() }, logger);
}
