/**
 * JSON Schema (draft-07, as Python Lightbus and TypeBox publish it) to TypeScript type
 * expressions, for `lightbus codegen`. A schema says what the receiver accepts, so the types
 * are as loose as the schema: an object without `additionalProperties: false` keeps an index
 * signature, and a keyword TypeScript cannot express (a pattern, a minimum) is named in TSDoc
 * instead. Anything not understood becomes `unknown`, never a wrong type.
 */
import { kRevive } from '../core/schema-types.js';
import { docComment, docLines, type Direction } from './schema-docs.js';

type Schema = Record<string, unknown>;

/** A named type emitted once at the top of the file, for a schema that refers to itself. */
export interface TypeAlias {
  name: string;
  type: string;
}

/** Turns the schemas of one declaration file into types, sharing the recursive-type aliases. */
export class TypeWriter {
  private readonly aliases = new Map<string, string>();

  /** The aliases recursive schemas needed, sorted by name. */
  get typeAliases(): TypeAlias[] {
    return [...this.aliases].map(([name, type]) => ({ name, type })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The type of `schema`, a root schema (its `$ref`s resolve against it). `aliasPrefix`
   * starts the names of the aliases it may need (`AuthCheckPasswordParams`); `indent` is the
   * indentation of the line the type starts on.
   */
  typeOf(schema: unknown, direction: Direction, aliasPrefix: string, indent = ''): string {
    const root = new RootContext(schema, direction, aliasPrefix, this.aliases);
    return root.typeOf(schema, indent);
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const SIMPLE_TYPE = /^[A-Za-z_$][\w$]*(\[\])*$/;

/** A property key as TypeScript needs it: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : tsString(name);
}

/** A single-quoted TypeScript string literal. */
export function tsString(text: string): string {
  const json = JSON.stringify(text);
  return `'${json.slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** One root schema being converted: resolves its `$ref`s and names its recursive parts. */
class RootContext {
  /** Nodes being expanded right now: a `$ref` back to one of them is recursion. */
  private readonly expanding = new Set<object>();
  /** Alias names given to recursive nodes of this root. */
  private readonly aliasOf = new Map<object, string>();
  private idIndex: Map<string, Schema> | undefined;

  constructor(
    private readonly root: unknown,
    private readonly direction: Direction,
    private readonly aliasPrefix: string,
    private readonly aliases: Map<string, string>,
  ) {}

  typeOf(schema: unknown, indent: string): string {
    if (schema === false) return 'never';
    if (!isSchema(schema)) return 'unknown';
    const named = this.aliasOf.get(schema);
    if (named) return named;
    if (this.expanding.has(schema)) return this.nameAlias(schema);
    this.expanding.add(schema);
    let type: string;
    try {
      type = this.expand(schema, indent);
    } finally {
      this.expanding.delete(schema);
    }
    const alias = this.aliasOf.get(schema);
    if (!alias) return type;
    // The node referred to itself while it was expanded: its body becomes the alias.
    this.aliases.set(alias, this.expand(schema, ''));
    return alias;
  }

  private expand(schema: Schema, indent: string): string {
    // In draft-07 a `$ref` replaces every keyword beside it.
    if (typeof schema['$ref'] === 'string') {
      const target = this.resolve(schema['$ref']);
      return target === undefined ? 'unknown' : this.typeOf(target, indent);
    }
    const parts: string[] = [];
    const base = this.baseType(schema, indent);
    if (base !== undefined) parts.push(base);
    for (const keyword of ['anyOf', 'oneOf'] as const) {
      const options = schema[keyword];
      if (Array.isArray(options) && options.length) parts.push(union(options.map((option) => this.typeOf(option, indent))));
    }
    const all = schema['allOf'];
    if (Array.isArray(all)) for (const member of all) parts.push(this.typeOf(member, indent));
    return intersection(parts);
  }

  /** The type the schema's own keywords give (`const`, `enum`, `type`), before any combinator. */
  private baseType(schema: Schema, indent: string): string | undefined {
    if ('const' in schema) return literalType(schema['const']);
    if (Array.isArray(schema['enum'])) return union(schema['enum'].map(literalType));
    const declared = schema['type'];
    const types = typeof declared === 'string' ? [declared] : Array.isArray(declared) ? declared.filter((t): t is string => typeof t === 'string') : inferTypes(schema);
    if (types.length === 0) return undefined;
    return union(types.map((type) => this.typeFor(type, schema, indent)));
  }

  private typeFor(type: string, schema: Schema, indent: string): string {
    switch (type) {
      case 'string':
        return this.stringType(schema);
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'object':
        return this.objectType(schema, indent);
      case 'array':
        return this.arrayType(schema, indent);
      default:
        return 'unknown';
    }
  }

  private stringType(schema: Schema): string {
    const revive = schema[kRevive];
    const bytes = revive === 'bytes' || schema['contentEncoding'] === 'base64';
    if (this.direction === 'receive') {
      if (revive === 'date') return 'Date';
      if (revive === 'bytes') return 'Uint8Array';
      return 'string';
    }
    // Outgoing values are converted to JSON first: a Date becomes ISO-8601, bytes base64.
    if (schema['format'] === 'date-time') return 'string | Date';
    if (bytes) return 'string | Uint8Array';
    return 'string';
  }

  private objectType(schema: Schema, indent: string): string {
    const properties = isSchema(schema['properties']) ? schema['properties'] : {};
    const required = new Set(Array.isArray(schema['required']) ? schema['required'].filter((r): r is string => typeof r === 'string') : []);
    const inner = `${indent}  `;
    const extra: string[] = [];
    const patterns = isSchema(schema['patternProperties']) ? schema['patternProperties'] : {};
    for (const key of Object.keys(patterns).sort()) extra.push(this.typeOf(patterns[key], inner));
    // additionalProperties covers only keys no pattern matches: none when one matches every key.
    const additional = Object.keys(patterns).some(matchesEveryKey) ? false : schema['additionalProperties'];
    if (additional === undefined || additional === true) extra.push('unknown');
    else if (additional !== false) extra.push(this.typeOf(additional, inner));
    const names = Object.keys(properties).sort();
    if (names.length === 0) return extra.length ? `Record<string, ${union(extra)}>` : 'Record<string, never>';
    const members: string[] = [];
    const propertyTypes: string[] = [];
    for (const name of names) {
      const type = this.typeOf(properties[name], inner);
      propertyTypes.push(type);
      members.push(`${docComment(docLines(properties[name], this.direction), inner)}${inner}${propertyKey(name)}${required.has(name) ? '' : '?'}: ${type};`);
    }
    // An index signature must admit every property's type too, or the declaration is an error.
    if (extra.length) members.push(`${inner}[key: string]: ${union([...extra, ...propertyTypes])};`);
    return `{\n${members.join('\n')}\n${indent}}`;
  }

  private arrayType(schema: Schema, indent: string): string {
    const prefixItems = Array.isArray(schema['prefixItems']) ? schema['prefixItems'] : Array.isArray(schema['items']) ? schema['items'] : undefined;
    if (!prefixItems) {
      const items = schema['items'];
      if (items === false) return '[]';
      return arrayOf(items === undefined ? 'unknown' : this.typeOf(items, indent));
    }
    // Tuples: `prefixItems` (rest in `items`, as Python Lightbus writes them) or draft-07's
    // array form of `items` (rest in `additionalItems`).
    const restSchema = Array.isArray(schema['prefixItems']) ? schema['items'] : schema['additionalItems'];
    const maxItems = typeof schema['maxItems'] === 'number' ? schema['maxItems'] : undefined;
    const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
    const fixed = maxItems !== undefined ? prefixItems.slice(0, maxItems) : prefixItems;
    const elements = fixed.map((item, index) => {
      const type = this.typeOf(item, indent);
      return index < minItems ? type : `${parenthesize(type)}?`;
    });
    const closed = restSchema === false || (maxItems !== undefined && maxItems <= prefixItems.length);
    if (!closed) elements.push(`...${arrayOf(restSchema === undefined || restSchema === true ? 'unknown' : this.typeOf(restSchema, indent))}`);
    return `[${elements.join(', ')}]`;
  }

  /** Gives a recursive node an alias name, unique in the file. */
  private nameAlias(node: Schema): string {
    const label = this.labelOf(node);
    let name = `${this.aliasPrefix}${label}`;
    for (let n = 2; this.aliases.has(name); n++) name = `${this.aliasPrefix}${label}${n}`;
    this.aliases.set(name, 'unknown'); // reserves the name until the body is known
    this.aliasOf.set(node, name);
    return name;
  }

  private labelOf(node: Schema): string {
    if (node === this.root) return 'Self';
    for (const section of ['definitions', '$defs']) {
      const defs = isRecord(this.root) ? this.root[section] : undefined;
      if (isSchema(defs)) for (const [key, value] of Object.entries(defs)) if (value === node) return pascalCase(key);
    }
    for (const key of ['title', '$id'] as const) if (typeof node[key] === 'string') return pascalCase(node[key]);
    return 'Node';
  }

  /** The schema a `$ref` points at: `#`, a JSON pointer (`#/definitions/Address`) or an `$id` in the root. */
  private resolve(ref: string): unknown {
    if (ref === '#') return this.root;
    if (ref.startsWith('#/')) {
      let node: unknown = this.root;
      for (const raw of ref.slice(2).split('/')) {
        const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
        if (Array.isArray(node)) node = node[Number(key)];
        else if (isRecord(node)) node = node[key];
        else return undefined;
      }
      return node;
    }
    this.idIndex ??= indexIds(this.root);
    return this.idIndex.get(ref);
  }
}

/** Whether a `patternProperties` pattern matches any key (`^(.*)$`, as TypeBox's `Type.Record` writes it, or `.*`). */
function matchesEveryKey(pattern: string): boolean {
  try {
    const regex = new RegExp(pattern, 'u');
    return ['', 'a', 'Some key-1.2/x'].every((key) => regex.test(key));
  } catch {
    return false;
  }
}

/** Keywords that imply a type when `type` is left out (common in hand-written schemas). */
function inferTypes(schema: Schema): string[] {
  if ('properties' in schema || 'additionalProperties' in schema || 'patternProperties' in schema) return ['object'];
  if ('items' in schema || 'prefixItems' in schema || 'additionalItems' in schema) return ['array'];
  return [];
}

function indexIds(root: unknown): Map<string, Schema> {
  const found = new Map<string, Schema>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isRecord(node)) return;
    if (typeof node['$id'] === 'string' && !found.has(node['$id'])) found.set(node['$id'], node);
    for (const child of Object.values(node)) visit(child);
  };
  visit(root);
  return found;
}

/** The type of exactly one JSON value. */
function literalType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return tsString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'number';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(literalType).join(', ')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return keys.length ? `{ ${keys.map((k) => `${propertyKey(k)}: ${literalType(value[k])}`).join('; ')} }` : 'Record<string, never>';
  }
  return 'unknown';
}

/** `A | B`, without repeats; `unknown` absorbs everything and `never` disappears. */
function union(types: string[]): string {
  const distinct = [...new Set(types.flatMap(splitTopLevel('|')))].filter((t) => t !== 'never');
  if (distinct.includes('unknown')) return 'unknown';
  if (distinct.length === 0) return 'never';
  return distinct.join(' | ');
}

function intersection(types: string[]): string {
  const meaningful = [...new Set(types)].filter((t) => t !== 'unknown');
  if (meaningful.includes('never')) return 'never';
  if (meaningful.length === 0) return 'unknown';
  if (meaningful.length === 1) return meaningful[0]!;
  return meaningful.map(parenthesize).join(' & ');
}

function arrayOf(type: string): string {
  return SIMPLE_TYPE.test(type) ? `${type}[]` : `Array<${type}>`;
}

function parenthesize(type: string): string {
  return splitTopLevel('|')(type).length > 1 || splitTopLevel('&')(type).length > 1 ? `(${type})` : type;
}

/** Splits a type at `separator` where it is not nested in braces, brackets, parentheses or quotes. */
function splitTopLevel(separator: '|' | '&'): (type: string) => string[] {
  return (type) => {
    const parts: string[] = [];
    let depth = 0;
    let quote: string | undefined;
    let start = 0;
    for (let i = 0; i < type.length; i++) {
      const c = type[i]!;
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '/' && type[i + 1] === '*') {
        // TSDoc inside object types is free text: skip it whole.
        const end = type.indexOf('*/', i + 2);
        i = end === -1 ? type.length : end + 1;
      } else if (c === "'" || c === '"') quote = c;
      else if ('{[(<'.includes(c)) depth++;
      else if ('}])>'.includes(c)) depth--;
      else if (c === separator && depth === 0) {
        parts.push(type.slice(start, i).trim());
        start = i + 1;
      }
    }
    parts.push(type.slice(start).trim());
    return parts;
  };
}

/** `my_company.auth` -> `MyCompanyAuth`, for alias names. */
export function pascalCase(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[0-9]/.test(joined) ? `_${joined}` : joined || 'Type';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A schema object (boolean schemas are handled by the callers). */
function isSchema(value: unknown): value is Schema {
  return isRecord(value);
}
