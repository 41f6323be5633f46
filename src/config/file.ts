/**
 * Finding and reading the config file. cosmiconfig knows the formats; `.ts`/`.mts` files are
 * loaded with jiti (src/util/module-loader.ts) instead of cosmiconfig's own TypeScript loader,
 * which needs the compiler at run time, writes a temporary file next to the config and breaks
 * on a config that imports a local `.ts` helper.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { ConfigError } from '../errors.js';

/** The file names searched for, in each directory from the working directory up. */
export const CONFIG_FILE_NAMES = [
  'lightbus.config.ts',
  'lightbus.config.mts',
  'lightbus.config.js',
  'lightbus.config.mjs',
  'lightbus.config.cjs',
  'lightbus.config.json',
  'lightbus.config.yaml',
  'lightbus.config.yml',
  '.lightbusrc',
  '.lightbusrc.json',
  '.lightbusrc.yaml',
  '.lightbusrc.yml',
] as const;

/** A config file's path and what it exports (undefined for an empty file). */
export interface ConfigFile {
  path: string;
  contents: unknown;
}

/** Directories walked up from the start directory at most. */
const MAX_PARENT_DIRS = 64;

/**
 * Loads a TypeScript config in this thread, with no loader hooks left behind (tsx's would also
 * start a thread to run them). The loader is imported only for a TypeScript config, and its
 * compiler is released once the config is read.
 */
const loadTypeScript: Loader = async (filepath) => {
  const { importModule, releaseCompiler } = await import('../util/module-loader.js');
  try {
    return exportedConfig(await importModule(filepath));
  } finally {
    releaseCompiler();
  }
};

/** ESM and CommonJS JavaScript, through import() so ESM configs work. */
const loadJavaScript: Loader = async (filepath) => exportedConfig(await import(pathToFileURL(filepath).href));

/**
 * The default export of a loaded config module. A config compiled to CommonJS
 * (`exports.default = config`) and imported natively comes back wrapped twice
 * (`{ default: { default: config } }`); unwrap that, but only that.
 */
function exportedConfig(module: unknown): unknown {
  let value = (module as { default?: unknown } | null)?.default ?? module;
  if (typeof value === 'object' && value !== null && 'default' in value) {
    const keys = Object.keys(value).filter((k) => k !== '__esModule');
    if (keys.length === 1 || (value as { __esModule?: unknown }).__esModule === true) value = (value as { default: unknown }).default;
  }
  return value;
}

function explorer() {
  return cosmiconfig('lightbus', {
    searchPlaces: [...CONFIG_FILE_NAMES],
    // We walk up ourselves: cosmiconfig's upward search also reads ~/.config/lightbus.
    searchStrategy: 'none',
    cache: false,
    loaders: {
      '.ts': loadTypeScript,
      '.mts': loadTypeScript,
      '.js': loadJavaScript,
      '.mjs': loadJavaScript,
      '.cjs': loadJavaScript,
      '.json': defaultLoaders['.json'],
      '.yaml': defaultLoaders['.yaml'],
      '.yml': defaultLoaders['.yml'],
      noExt: defaultLoaders['.yaml'],
    },
  });
}

/** The nearest config file from `cwd` up to the filesystem root, or undefined if there is none. */
export async function findConfigFile(cwd: string): Promise<ConfigFile | undefined> {
  const search = explorer();
  let dir = resolve(cwd);
  for (let i = 0; i < MAX_PARENT_DIRS; i++) {
    let found;
    try {
      found = await search.search(dir);
    } catch (error) {
      throw loadFailure(error);
    }
    if (found) return { path: found.filepath, contents: found.isEmpty ? undefined : found.config };
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

/**
 * Reads the config file the user named (`--config` or `LIGHTBUS_CONFIG`, said in `origin`).
 * A relative path is taken from `cwd`.
 */
export async function readConfigFile(path: string, cwd: string, origin: string): Promise<ConfigFile> {
  const absolute = isAbsolute(path) ? path : resolve(cwd, path);
  if (!existsSync(absolute)) {
    throw new ConfigError(`config file ${absolute} (from ${origin}) does not exist`, absolute);
  }
  try {
    const loaded = await explorer().load(absolute);
    return { path: absolute, contents: loaded?.isEmpty ? undefined : loaded?.config };
  } catch (error) {
    throw loadFailure(error, absolute);
  }
}

/** A file that exists but cannot be loaded: syntax errors, a throwing module, no loader. */
function loadFailure(error: unknown, path?: string): ConfigError {
  const file = path ?? (error as { filepath?: string }).filepath;
  const reason = error instanceof Error ? error.message : String(error);
  const failure = new ConfigError(`${file ?? 'config file'}: could not be loaded: ${reason}`, file);
  failure.cause = error;
  return failure;
}
