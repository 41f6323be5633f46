/**
 * Imports the user's modules and `lightbus.config.ts` with jiti, which compiles TypeScript in
 * the importing thread. tsx, the alternative, compiles in loader hooks, and on Node 20 each
 * thread with hooks gets one more thread to run them, which costs memory in every worker of an
 * idle `lightbus run`: see docs/benchmark.md, figure 5.
 *
 * jiti imports natively whatever Node can load itself (`.js` of an ESM package, `.mjs`,
 * CommonJS), so a user module's `import ... from 'lightbus'` reaches the runtime's own copy of
 * the package, as a plain `import()` would. Compiled files are cached on disk (jiti's default:
 * `node_modules/.cache/jiti` or the temporary directory), so a restart does not compile again.
 */
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createJiti, type Jiti, type JitiOptions } from 'jiti';

type Transform = NonNullable<JitiOptions['transform']>;
type PrepareStackTrace = ErrorConstructor['prepareStackTrace'];

const babelPath = createRequire(import.meta.url).resolve('jiti/package.json').replace(/package\.json$/, 'dist/babel.cjs');

interface Compiler {
  compile: Transform;
  /** `Error.prepareStackTrace` before Babel replaced it, and Babel's own. */
  originalPrepareStackTrace: PrepareStackTrace;
  babelPrepareStackTrace?: PrepareStackTrace;
}

let jiti: Jiti | undefined;
let compiler: Compiler | undefined;

// jiti's own loader keeps its compiler (Babel, about 8 MB of heap) for the life of the thread;
// this one loads it on the first file to compile and lets it go in releaseCompiler().
const transform: Transform = (options) => {
  // A require() of its own: the module a require() is made for keeps what it loaded.
  compiler ??= { compile: createRequire(import.meta.url)(babelPath) as Transform, originalPrepareStackTrace: Error.prepareStackTrace };
  const result = compiler.compile(options);
  if (Error.prepareStackTrace !== compiler.originalPrepareStackTrace) compiler.babelPrepareStackTrace ??= Error.prepareStackTrace;
  return result;
};

/** Imports a module by its absolute path, TypeScript or JavaScript, and returns its namespace. */
export function importModule(absolutePath: string): Promise<unknown> {
  jiti ??= createJiti(import.meta.url, { transform });
  return jiti.import(absolutePath);
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The user's files loaded in this thread so far: those jiti compiled or required (its module
 * cache is Node's `require.cache`), without dependencies (`node_modules`) and lightbus itself.
 * An ES module that Node imported natively (plain `.js` of an ESM package, `.mjs`) is not in
 * that cache and so not listed; the modules given by path are listed by their importer.
 */
export function loadedUserFiles(): string[] {
  const own = [`${packageRoot}src${sep}`, `${packageRoot}dist${sep}`];
  return Object.keys(createRequire(import.meta.url).cache).filter(
    (file) => !file.includes(`${sep}node_modules${sep}`) && !own.some((dir) => file.startsWith(dir)),
  );
}

/**
 * Lets the compiler be collected, then collects it: call once the modules are loaded. A later
 * import of a TypeScript file loads the compiler again. Babel replaces `Error.prepareStackTrace`
 * (to trim its own frames from stack traces), which would keep it alive: the original is put
 * back, unless something else has replaced Babel's since.
 */
export function releaseCompiler(): void {
  if (!compiler) return;
  if (compiler.babelPrepareStackTrace !== undefined && Error.prepareStackTrace === compiler.babelPrepareStackTrace) {
    Error.prepareStackTrace = compiler.originalPrepareStackTrace;
  }
  compiler = undefined;
  delete createRequire(import.meta.url).cache[babelPath];
  collectGarbage();
}

/**
 * One full collection now: a thread that has just loaded its modules may then idle for a long
 * time without one, holding the compiler's memory. `gc` is exposed only to contexts made while
 * `--expose-gc` is set, and the flag is process-wide, so it is unset at once.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
  setFlagsFromString('--no-expose-gc');
  // Threads loading at once race on the process-wide flag: one may unset it before another's
  // context is made. That thread skips the collection rather than dying of "gc is not defined".
  gc?.();
}
