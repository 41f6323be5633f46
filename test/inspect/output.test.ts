import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatTime, Printer, renderTable, type Column, type OutputStream } from '../../src/cli/output.js';

interface Row {
  name: string;
  n: number;
  note?: string;
}
const columns: Column<Row>[] = [
  { header: 'NAME', value: (r) => r.name },
  { header: 'N', value: (r) => r.n, align: 'right' },
  { header: 'NOTE', value: (r) => r.note, shrink: true },
];

function capture(isTTY = false, width?: number): OutputStream & { text: string } {
  const out = { text: '', isTTY, ...(width ? { columns: width } : {}), write: (s: string) => (out.text += s) };
  return out;
}

describe('output', () => {
  it('lays rows out in aligned columns, with - for missing values and no newline inside a cell', () => {
    const lines = renderTable<Row>([{ name: 'a', n: 1, note: 'x\ny' }, { name: 'long-name', n: 100 }], columns);
    assert.deepEqual(lines, ['NAME         N  NOTE', 'a            1  x ⏎ y', 'long-name  100  -']);
  });

  it('cuts shrinkable columns to fit a terminal width', () => {
    const rows = [{ name: 'a', n: 1, note: 'n'.repeat(80) }];
    const lines = renderTable<Row>(rows, columns, 40);
    assert.ok(lines.every((l) => l.length <= 40), lines.join('\n'));
    assert.ok(lines[1]!.endsWith('…'));
  });

  it('prints tables (or the empty message), and nothing with --json, where oclif prints the result', () => {
    const json = capture();
    new Printer(true, json).table([{ name: 'a', n: 1 }], columns);
    assert.equal(json.text, '');
    const table = capture();
    new Printer(false, table).table([], columns, { empty: 'nothing here' });
    assert.equal(table.text, 'nothing here\n');
  });

  it('prints rows that stream in as JSON lines with --json', () => {
    const json = capture();
    new Printer(true, json).row({ name: 'a', n: 1 }, columns, (r) => ({ ...r, extra: true }));
    assert.deepEqual(json.text.trim().split('\n').map((l) => JSON.parse(l)), [{ name: 'a', n: 1, extra: true }]);
  });

  it('prints a growing table with its header once', () => {
    const out = capture();
    const printer = new Printer(false, out);
    printer.row({ name: 'a', n: 1 }, columns, (r) => r);
    printer.row({ name: 'b', n: 2 }, columns, (r) => r);
    assert.equal(out.text.split('\n').filter((l) => l.startsWith('NAME')).length, 1);
    assert.equal(out.text.trim().split('\n').length, 3);
  });

  it('formats durations and times for people', () => {
    assert.equal(formatDuration(850), '850ms');
    assert.equal(formatDuration(12_400), '12s');
    assert.equal(formatDuration(192_000), '3m12s');
    assert.equal(formatDuration(2 * 3600_000 + 5 * 60_000), '2h05m');
    assert.equal(formatDuration(3 * 86400_000 + 4 * 3600_000), '3d04h');
    assert.equal(formatTime(Date.UTC(2025, 4, 1, 10, 0, 0, 123)), '2025-05-01 10:00:00.123Z');
  });
});
