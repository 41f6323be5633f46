/**
 * What the operating commands print: readable tables by default, or with `--json` one JSON
 * object per line (for `jq`, `grep` and scripts). A command returns its rows; the columns here
 * show them to people, and as JSON each row is printed as it is.
 */

/** One column of a table. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  align?: 'left' | 'right';
  /** May be cut (with `…`) to fit a terminal's width; the widest such column gives way first. */
  shrink?: boolean;
  /** The least width of this column in a table printed row by row (`--follow`), where widths cannot be measured first. */
  width?: number;
}

/** Where output goes: process.stdout, or anything with `write` in tests. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const GAP = '  ';
const MIN_SHRUNK_WIDTH = 12;

/**
 * Lays rows out in columns separated by two spaces. With `maxWidth`, shrinkable columns are
 * cut until the lines fit (never below a readable minimum, so a very narrow terminal wraps).
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], maxWidth?: number): string[] {
  const cells = rows.map((row) => columns.map((column) => cellText(column.value(row))));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)));
  if (maxWidth !== undefined) fitWidths(widths, columns, maxWidth);
  const lines = [columns.map((column, i) => pad(column.header, widths[i]!, column.align, i === columns.length - 1)).join(GAP)];
  for (const line of cells) lines.push(line.map((text, i) => pad(text, widths[i]!, columns[i]!.align, i === columns.length - 1)).join(GAP));
  return lines;
}

/**
 * Prints for people, to stdout unless told otherwise. With `--json` a command's result is
 * printed by oclif (`enableJsonFlag`, `OpsCommand.logJson`), so what prints a whole result
 * prints nothing then; rows printed as they happen (`--follow`) are JSON lines here.
 */
export class Printer {
  private streamedHeader = false;

  constructor(
    /** `--json` was given: print only streamed rows, as JSON lines. */
    readonly json: boolean,
    private readonly out: OutputStream = process.stdout,
  ) {}

  /** A whole result as a table (after `title` when given, or `empty` when there are no rows); nothing with `--json`. */
  table<T>(rows: readonly T[], columns: readonly Column<T>[], options: { title?: string; empty?: string } = {}): void {
    if (this.json) return;
    if (options.title) this.line(options.title);
    if (rows.length === 0) {
      this.line(options.empty ?? '(none)');
      return;
    }
    for (const line of renderTable(rows, columns, this.maxWidth())) this.line(line);
  }

  /**
   * Prints one row of a table that grows while the command runs (`--follow`): the header
   * first, then each row with the columns' fixed widths. As JSON, one line per row.
   */
  row<T>(row: T, columns: readonly Column<T>[], toJson: (row: T) => object): void {
    if (this.json) {
      this.jsonLine(toJson(row));
      return;
    }
    const widths = columns.map((column) => Math.max(column.header.length, column.width ?? 0));
    const last = columns.length - 1;
    // Widths are minimums here: a longer value shifts the rest of its line rather than lose characters.
    const render = (texts: string[]) =>
      texts.map((text, i) => (columns[i]!.align === 'right' ? text.padStart(widths[i]!) : i === last ? text : text.padEnd(widths[i]!))).join(GAP);
    if (!this.streamedHeader) {
      this.line(render(columns.map((column) => column.header)));
      this.streamedHeader = true;
    }
    this.line(render(columns.map((column) => cellText(column.value(row)))));
  }

  /** A value on its own, as indented JSON; nothing with `--json`. */
  value(value: unknown): void {
    if (!this.json) this.line(JSON.stringify(value, null, 2));
  }

  jsonLine(value: unknown): void {
    this.line(JSON.stringify(value));
  }

  /** A line of text (in table mode only; scripts reading JSON lines must not see prose). */
  note(text: string): void {
    if (!this.json) this.line(text);
  }

  line(text: string): void {
    this.out.write(`${text}\n`);
  }

  /** Cut tables to the terminal's width; a pipe or file gets whole lines. */
  private maxWidth(): number | undefined {
    return this.out.isTTY && this.out.columns ? this.out.columns : undefined;
  }
}

/** A duration for people: `850ms`, `12s`, `3m12s`, `2h05m`, `3d04h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(Math.round(ms));
  if (abs < 1000) return `${sign}${abs}ms`;
  const s = Math.floor(abs / 1000);
  if (s < 60) return `${sign}${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${sign}${m}m${two(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${sign}${h}h${two(m % 60)}m`;
  return `${sign}${Math.floor(h / 24)}d${two(h % 24)}h`;
}

/** A time for people, in UTC to the millisecond: `2025-05-01 10:00:00.123Z`. */
export function formatTime(time: number | string | Date): string {
  const date = time instanceof Date ? time : new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().replace('T', ' ');
}

/** A list in one cell: `a, b, c`, or `-` when empty. */
export function formatList(items: readonly string[]): string {
  return items.length === 0 ? '-' : items.join(', ');
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

function cellText(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  // A newline inside a cell would break the table's lines apart.
  return String(value).replace(/\r?\n/g, ' ⏎ ');
}

function pad(text: string, width: number, align: Column<unknown>['align'], last: boolean): string {
  const shown = cut(text, width);
  if (align === 'right') return shown.padStart(width);
  return last ? shown : shown.padEnd(width);
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function fitWidths<T>(widths: number[], columns: readonly Column<T>[], maxWidth: number): void {
  const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP.length * (widths.length - 1);
  // Bounded: every pass narrows the widest shrinkable column by one, down to a floor.
  for (let guard = 0; guard < 100_000 && total() > maxWidth; guard++) {
    let widest = -1;
    columns.forEach((column, i) => {
      if (column.shrink && widths[i]! > MIN_SHRUNK_WIDTH && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    });
    if (widest < 0) return;
    widths[widest]!--;
  }
}
