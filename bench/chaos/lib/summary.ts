/** The plain-text summary `npm run chaos` prints (and docs/reliability.md quotes). */
import type { ChaosParams, ScenarioResult } from './result.js';

export function renderSummary(date: string, machine: Record<string, unknown>, params: ChaosParams, results: ScenarioResult[]): string {
  const lines = [
    `lightbus chaos suite, ${date}`,
    `machine: ${machine['cpus']} x ${machine['cpuModel']}, Node ${machine['node']}; busy before: ${machine['busyPercentBefore']} %, load ${machine['loadAverage1m']}, calibration ${machine['calibrationMs']} ms`,
    `params: bound scale ${params.boundScale}, poison ${params.poisonPercent} %`,
    '',
  ];
  for (const result of results) {
    lines.push(`${result.pass ? 'PASS' : 'FAIL'}  ${result.scenario}  (${(result.durationMs / 1000).toFixed(1)} s)`);
    if (result.error) lines.push(`      error: ${result.error}`);
    const figures = Object.entries(result.figures).map(([name, value]) => `${name}=${typeof value === 'object' ? JSON.stringify(value) : value}`);
    for (let i = 0; i < figures.length; i += 5) lines.push(`      ${figures.slice(i, i + 5).join('  ')}`);
    for (const c of result.checks) {
      lines.push(`      ${c.pass ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    }
    for (const note of result.notes ?? []) lines.push(`      note: ${note}`);
    if (result.logsKeptIn) lines.push(`      logs kept in ${result.logsKeptIn}`);
  }
  const failed = results.filter((r) => !r.pass).map((r) => r.scenario);
  lines.push('', failed.length === 0 ? 'all scenarios passed' : `FAILED: ${failed.join(', ')}`);
  return lines.join('\n');
}
