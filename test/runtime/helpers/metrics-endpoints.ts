/** The HTTP side of `lightbus run --metrics-port 0` for tests: where it listens, a scrape, a probe. */
import assert from 'node:assert/strict';
import type { RunnerProcess } from './runner-process.js';

/** The port the runner's metrics server took (asked for 0: any free one). */
export async function metricsBase(runner: RunnerProcess): Promise<string> {
  const record = await runner.waitForLog((r) => r.msg.startsWith('metrics server listening'), 30_000, 'the metrics server to listen');
  return `http://127.0.0.1:${record['port'] as number}`;
}

/** Samples of the Prometheus text: `name{labels}` -> value. */
export async function scrape(base: string): Promise<Map<string, number>> {
  const response = await fetch(`${base}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

export async function probe(base: string, path: '/healthz' | '/readyz'): Promise<{ status: number; body: { status: string; checks: Record<string, unknown> } }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, unknown> } };
}
