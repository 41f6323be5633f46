/**
 * TSDoc for generated types: what a JSON Schema says that a TypeScript type cannot (titles,
 * descriptions, formats, constraints, defaults), as comment lines.
 */
/**
 * Which side of the wire the type is for. `send`: what a caller or firer passes, where a
 * `Date` or `Uint8Array` is accepted because it is converted to text before sending.
 * `receive`: what comes back, where only values the schema marks for revival are objects.
 */
export type Direction = 'send' | 'receive';

type Schema = Record<string, unknown>;

/** The documentation lines of a property or member: title, description and what types cannot say. */
export function docLines(schema: unknown, direction: Direction): string[] {
  if (!isSchema(schema)) return [];
  const lines: string[] = [];
  const title = schema['title'];
  if (typeof title === 'string' && title.trim() && !AUTO_TITLE.test(title)) lines.push(title.trim());
  const description = schema['description'];
  if (typeof description === 'string' && description.trim()) lines.push(...description.trim().split(/\r?\n/));
  const formats = new Set<string>();
  collectFormats(schema, formats);
  for (const format of [...formats].sort()) lines.push(formatNote(format, direction));
  const constraints = constraintNotes(schema);
  if (constraints.length) lines.push(`Constraints: ${constraints.join(', ')}.`);
  const withDefault = 'default' in schema ? schema : optionsOf(schema).find((option) => 'default' in option);
  if (withDefault) lines.push(`@defaultValue \`${safeJson(withDefault['default'])}\``);
  return lines;
}

/** Titles every parameter and response schema gets (docs/wire-format.md, "Schemas"): nothing to tell. */
const AUTO_TITLE = /^(RPC \S+\(\) (parameters|response)|Event \S+ parameters)$/;

/** A TSDoc comment of `lines` at `indent`, or nothing when there are no lines. */
export function docComment(lines: string[], indent: string): string {
  if (lines.length === 0) return '';
  const safe = lines.map((line) => line.replace(/\*\//g, '*\\/'));
  if (safe.length === 1) return `${indent}/** ${safe[0]} */\n`;
  return `${indent}/**\n${safe.map((line) => (line ? `${indent} * ${line}` : `${indent} *`)).join('\n')}\n${indent} */\n`;
}

/** Formats named by the schema itself or by the options of its `anyOf`/`oneOf` (`Optional[datetime]`). */
function collectFormats(schema: Schema, into: Set<string>): void {
  if (typeof schema['format'] === 'string') into.add(schema['format']);
  for (const option of optionsOf(schema)) if (typeof option['format'] === 'string') into.add(option['format']);
}

/** The options of a schema's `anyOf` and `oneOf`; Python Lightbus writes `Optional[x] = None` as one option per type, each with the default. */
function optionsOf(schema: Schema): Schema[] {
  return (['anyOf', 'oneOf'] as const).flatMap((keyword) => (Array.isArray(schema[keyword]) ? (schema[keyword] as unknown[]).filter(isSchema) : []));
}

function formatNote(format: string, direction: Direction): string {
  if (format === 'date-time') {
    return direction === 'send'
      ? 'Format: date-time, ISO-8601 text such as `2024-01-31T12:00:00Z`; a `Date` is converted before sending.'
      : 'Format: date-time, ISO-8601 text such as `2024-01-31T12:00:00Z`.';
  }
  if (format === 'date') return 'Format: date, ISO-8601 text such as `2024-01-31`.';
  if (format === 'time') return 'Format: time, ISO-8601 text such as `12:00:00`.';
  return `Format: ${format}.`;
}

const CONSTRAINTS = ['minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties'] as const;

function constraintNotes(schema: Schema): string[] {
  const notes: string[] = [];
  if (schema['type'] === 'integer') notes.push('integer');
  for (const key of CONSTRAINTS) {
    const value = schema[key];
    if (value === undefined || value === false) continue;
    notes.push(typeof value === 'string' ? `${key} \`${value}\`` : `${key} ${safeJson(value)}`);
  }
  return notes;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
