/**
 * Tab completion of the names on the bus, from the schemas it knows (remote APIs included):
 *
 * - inside the string of `bus.call('…`, `bus.fire('…`, `bus.listen('…` (or a list of them)
 *   and `api('…`: `au` → `auth.`, then `auth.ch` → `auth.check_password'` (the quote closed);
 * - after `.schema `: API names and `api.member`;
 * - after an API object of the scope: `auth.ch` → `auth.check_password`.
 *
 * Anything else is left to Node's own completer (the caller falls back when this returns
 * `undefined`). Pure functions of the line and the schemas, so they are tested directly.
 */
import type { ApiSchema } from '../api/define.js';

/** What readline expects from a completer: the candidates and the text they replace. */
export type Completion = [candidates: string[], completeOn: string];

type Kind = 'rpc' | 'event' | 'member' | 'api';

export interface CompletionContext {
  /** The schemas on the bus, by API name. */
  schemas: Record<string, ApiSchema>;
  /** The member names under a dotted path of the scope if it is an API object, else `undefined`. */
  membersAt?: (path: string[]) => string[] | undefined;
}

/** The completion of `line` (the text before the cursor), or `undefined` when it is not about the bus. */
export function completeBusNames(line: string, context: CompletionContext): Completion | undefined {
  return completeSchemaCommand(line, context.schemas) ?? completeNameString(line, context.schemas) ?? completeApiObject(line, context);
}

/** `.schema au` → `.schema auth.`; `.schema auth.ch` → `.schema auth.check_password`. */
function completeSchemaCommand(line: string, schemas: Record<string, ApiSchema>): Completion | undefined {
  const match = /^\s*\.schema\s+(\S*)$/.exec(line);
  if (!match) return undefined;
  const partial = match[1]!;
  return [nameCandidates(partial, schemas, 'member', ''), partial];
}

/** The string being typed as the first argument of `bus.call(` and its kin. */
function completeNameString(line: string, schemas: Record<string, ApiSchema>): Completion | undefined {
  const open = unclosedString(line);
  if (!open) return undefined;
  const head = line.slice(0, open.start);
  const kind = headKind(head);
  if (!kind) return undefined;
  const partial = line.slice(open.start + 1);
  return [nameCandidates(partial, schemas, kind, open.quote), partial];
}

function headKind(head: string): Kind | undefined {
  if (/\bbus\s*\.\s*call\s*\(\s*$/.test(head)) return 'rpc';
  if (/\bbus\s*\.\s*fire\s*\(\s*$/.test(head)) return 'event';
  // listen() takes one event or a list: `bus.listen(['auth.user_registered', 'au`.
  if (/\bbus\s*\.\s*listen\s*\(\s*(\[(\s*(['"`])[^'"`]*\3\s*,)*\s*)?$/.test(head)) return 'event';
  if (/(^|[^\w$.])api\s*\(\s*$/.test(head)) return 'api';
  return undefined;
}

/**
 * Full names starting with `partial`. Until the API part is complete, one candidate per API
 * (`auth.`), so a tab completes one level at a time; then its members, the string closed.
 */
export function nameCandidates(partial: string, schemas: Record<string, ApiSchema>, kind: Kind, closing: string): string[] {
  const out = new Set<string>();
  for (const [api, schema] of Object.entries(schemas)) {
    if (kind === 'api') {
      if (api.startsWith(partial)) out.add(api + closing);
      continue;
    }
    const members = [
      ...(kind === 'event' ? [] : Object.keys(schema.rpcs ?? {})),
      ...(kind === 'rpc' ? [] : Object.keys(schema.events ?? {})),
    ];
    if (members.length === 0) continue;
    const prefix = `${api}.`;
    if (partial.startsWith(prefix)) {
      for (const member of members) if ((prefix + member).startsWith(partial)) out.add(prefix + member + closing);
    } else if (prefix.startsWith(partial)) {
      out.add(prefix);
    }
  }
  return [...out].sort();
}

/** `auth.ch` where `auth` is an API object of the scope → `auth.check_password`. */
function completeApiObject(line: string, context: CompletionContext): Completion | undefined {
  if (!context.membersAt) return undefined;
  const match = /(?<![\w$.'"`])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.([\w$]*)$/.exec(line);
  if (!match || unclosedString(line)) return undefined;
  const expression = match[1]!;
  const filter = match[2]!;
  const members = context.membersAt(expression.split('.'));
  if (!members) return undefined;
  const candidates = members.filter((m) => m.startsWith(filter)).sort().map((m) => `${expression}.${m}`);
  return [candidates, `${expression}.${filter}`];
}

/** Where the string literal still open at the end of `line` starts, and its quote. */
function unclosedString(line: string): { start: number; quote: string } | undefined {
  let open: { start: number; quote: string } | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (open) {
      if (ch === '\\') i++;
      else if (ch === open.quote) open = undefined;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      open = { start: i, quote: ch };
    } else if (ch === '/' && line[i + 1] === '/') {
      return undefined; // the rest is a comment
    }
  }
  return open;
}
