/**
 * The printed table and bench/results.json. Every figure is shown beside its floor (when it
 * has one), the ratio of the two, and its target with PASS or MISS. A miss is reported, never
 * turned into a failing exit code.
 */
import { writeFileSync } from 'node:fs';
import type { CpuPerOperation } from './cpu.js';

export interface Row {
  id: string;
  label: string;
  value: number;
  unit: 'ms' | '/s' | 'MB' | '%';
  floor?: { value: number; label: string };
  target?: { text: string; pass: boolean };
  note?: string;
}

export interface FloorRow {
  label: string;
  text: string;
}

function format(value: number, unit: Row['unit']): string {
  if (!Number.isFinite(value)) return 'n/a';
  switch (unit) {
    case 'ms':
      return `${value < 10 ? value.toFixed(3) : value.toFixed(0)} ms`;
    case '/s':
      return `${Math.round(value).toLocaleString('en-US')}/s`;
    case 'MB':
      return `${value.toFixed(1)} MB`;
    case '%':
      return `${value.toFixed(1)} %`;
  }
}

export function formatRate(perSecond: number): string {
  return format(perSecond, '/s');
}

export function formatMs(ms: number): string {
  return format(ms, 'ms');
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
}

export function renderTable(title: string, floors: FloorRow[], rows: Row[]): string {
  const lines = [title, '', 'Raw Redis floors (plain ioredis, measured in this run)'];
  const floorWidth = Math.max(...floors.map((f) => f.label.length));
  for (const floor of floors) lines.push(`  ${floor.label.padEnd(floorWidth)}  ${floor.text}`);
  lines.push('');
  const header = ['figure', 'measured', 'floor', 'ratio', 'target', 'result'];
  const body = rows.map((row) => [
    row.label,
    format(row.value, row.unit),
    row.floor ? `${format(row.floor.value, row.unit)} ${row.floor.label}`.trim() : '',
    row.floor ? `${(row.value / row.floor.value).toFixed(2)}x` : '',
    row.target?.text ?? '',
    row.target ? (row.target.pass ? 'PASS' : 'MISS') : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  lines.push(pad(header, widths), pad(widths.map((w) => '-'.repeat(w)), widths));
  body.forEach((cells, i) => {
    lines.push(pad(cells, widths));
    const note = rows[i]!.note;
    if (note) lines.push(`    ${note}`);
  });
  return lines.join('\n');
}

export interface CpuRow {
  label: string;
  cpu: CpuPerOperation;
}

/** CPU microseconds per operation, by process, and the rate the cores could sustain at that cost. */
export function renderCpuTable(rows: CpuRow[], cores: number): string {
  const header = ['CPU time (us) per operation', 'caller', 'server main thread', 'server other threads', 'redis', 'total', `ceiling on ${cores} cores`];
  const us = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(0));
  const body = rows.map(({ label, cpu }) => [label, us(cpu.benchUs), us(cpu.childMainUs), us(cpu.childOtherUs), us(cpu.redisUs), us(cpu.totalUs), formatRate(cpu.ceilingPerSecond)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  return [pad(header, widths), pad(widths.map((w) => '-'.repeat(w)), widths), ...body.map((cells) => pad(cells, widths))].join('\n');
}

export function writeResults(path: string, results: unknown): void {
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
