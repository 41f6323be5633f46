/**
 * Where a worker thread starts: the one entry (worker.ts) for the threads of `lightbus run`
 * and the registrations-only thread of `lightbus dumpschema`.
 */
const fromSource = import.meta.url.endsWith('.ts');

export const workerEntry = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
// The worker imports the user's modules with jiti (src/util/module-loader.ts), in its own
// thread. Only an entry run from src/ (bin/dev.js, tests) needs tsx's hooks, and their extra
// thread, for the runtime's own `.ts` files.
export const workerExecArgv = fromSource ? ['--import', new URL('./tsx-preload.mjs', import.meta.url).href] : [];
