/**
 * Which module defined each API and which registered each handler, while `lightbus run` loads
 * the user's modules: the file of the first stack frame outside lightbus, taken once per
 * `defineApi`, `serve`, `listen`, `every` and `schedule` (never on a hot path), and only while
 * a worker is loading (no cost anywhere else).
 *
 * It answers one question: did a module that `run` was not given both define APIs and register
 * handlers? Such a module was imported, most likely for its definitions (service B's `bus.ts`
 * importing `auth` from service A's `bus.ts`), and importing it made this process serve A's
 * API and run A's listeners too.
 *
 * The state lives on `globalThis` under a registered symbol: the user's modules may reach
 * another copy of this file (`src/` under tsx, `dist/` in the runtime) than the worker does.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { isAbsolute, sep } from 'node:path';

interface Origins {
  /** Files whose frames are lightbus's own (its `src/` and `dist/`). */
  ownDirs: string[];
  definitions: Map<string, string[]>;
  registrations: Map<string, string[]>;
}

/** A module that both defined APIs and registered handlers without being an entry module of `run`. */
export interface ImportedServingModule {
  module: string;
  /** The module that imported it, when known. */
  importedBy?: string;
  apis: string[];
  registrations: string[];
}

const kOrigins = Symbol.for('lightbus.moduleOrigins');
const global = globalThis as { [kOrigins]?: Origins | undefined };
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Starts noting origins (a worker, before it imports the user's modules). */
export function startNotingOrigins(): void {
  global[kOrigins] = { ownDirs: [`${packageRoot}src${sep}`, `${packageRoot}dist${sep}`], definitions: new Map(), registrations: new Map() };
}

/** Stops noting, and returns the modules that defined APIs and registered handlers though not given to `run`. */
export function stopNotingOrigins(entryModules: readonly string[]): ImportedServingModule[] {
  const origins = global[kOrigins];
  global[kOrigins] = undefined;
  if (!origins) return [];
  const entries = new Set(entryModules.map(realPath));
  const found: ImportedServingModule[] = [];
  const cache = createRequire(import.meta.url).cache;
  for (const [module, registrations] of origins.registrations) {
    const apis = origins.definitions.get(module);
    if (!apis || entries.has(realPath(module))) continue;
    const importedBy = cache[module]?.parent?.filename;
    found.push({ module, apis, registrations, ...(importedBy ? { importedBy } : {}) });
  }
  return found;
}

/** The warning `lightbus run` logs for one {@link ImportedServingModule}: what happened and what to do. */
export function importedServingWarning({ module, importedBy, apis, registrations }: ImportedServingModule, entryModules: readonly string[], serviceName: string): string {
  return (
    `${module} defines ${apis.join(', ')} and ${registrations.join(', ')}, but it is not a module given to lightbus run: ` +
    `it was imported${importedBy ? ` by ${importedBy}` : ''}, and importing it made this process (service "${serviceName}") do all that too. ` +
    'If it was imported for its definitions, move the definitions to their own module (e.g. api.ts) and import that one; ' +
    `if it is meant to run here, give it to lightbus run too (lightbus run ${[...entryModules, module].join(' ')}).`
  );
}

/** `defineApi(name)` was called. */
export function noteDefinition(api: string): void {
  note('definitions', api);
}

/** A handler was registered: `serve auth`, `listen send_welcome_email`, `task cleanup`. */
export function noteRegistration(what: string): void {
  note('registrations', what);
}

function note(kind: 'definitions' | 'registrations', what: string): void {
  const origins = global[kOrigins];
  if (!origins) return;
  const file = callerFile(origins.ownDirs);
  if (file === undefined) return;
  const list = origins[kind].get(file) ?? [];
  if (!list.includes(what)) list.push(what);
  origins[kind].set(file, list);
}

/** The file of the first frame that is not lightbus's, node's own, or a dependency's. */
function callerFile(ownDirs: readonly string[]): string | undefined {
  const holder: { stack?: NodeJS.CallSite[] } = {};
  const previousPrepare = Error.prepareStackTrace;
  const previousLimit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_error, frames) => frames;
  Error.stackTraceLimit = 30;
  try {
    Error.captureStackTrace(holder, callerFile);
    for (const frame of holder.stack ?? []) {
      let file = frame.getFileName() ?? '';
      if (file.startsWith('file://')) file = fileURLToPath(file);
      if (!isAbsolute(file)) continue;
      if (file.includes(`${sep}node_modules${sep}`) || ownDirs.some((dir) => file.startsWith(dir))) continue;
      return file;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = previousPrepare;
    Error.stackTraceLimit = previousLimit;
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
