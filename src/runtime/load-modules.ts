/**
 * Importing the user's modules into a thread whose bus backend is already installed, and
 * reading what they registered. One routine for every place that loads them: a worker thread
 * of `lightbus run`, the main thread of `lightbus run --inline`, and the registrations-only
 * thread of `lightbus dumpschema` (worker.ts).
 */
import { importModule, releaseCompiler } from '../util/module-loader.js';
import { startNotingOrigins, stopNotingOrigins } from '../util/module-origins.js';
import type { Registrations } from './protocol.js';
import type { Registry } from './registry.js';

export type ModulesLoaded =
  | {
      ok: true;
      registrations: Registrations;
      /** The values every module exports, in module order (for the APIs they define). */
      exported: unknown[];
    }
  | { ok: false; modulePath: string; error: unknown };

/** Imports `modules` in order, stopping at the first that fails; `registry` is the one the installed backend fills. */
export async function loadUserModules(modules: readonly string[], registry: Registry): Promise<ModulesLoaded> {
  const exported: unknown[] = [];
  startNotingOrigins();
  try {
    for (const modulePath of modules) {
      try {
        const namespace = (await importModule(modulePath)) as Record<string, unknown>;
        exported.push(...Object.values(namespace));
      } catch (error) {
        stopNotingOrigins(modules);
        return { ok: false, modulePath, error };
      }
    }
  } finally {
    releaseCompiler();
  }
  const importedServing = stopNotingOrigins(modules);
  const registrations = { ...registry.registrations(), ...(importedServing.length > 0 ? { importedServing } : {}) };
  return { ok: true, registrations, exported };
}
