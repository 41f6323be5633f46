/**
 * `loadConfig` for the public API, loading cosmiconfig and the TypeScript loader only when
 * called: every worker thread imports the package, and few ever load a config file.
 */
import type { LoadConfigOptions } from './load.js';
import type { ResolvedConfig } from './schema.js';

export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const { loadConfig: load } = await import('./load.js');
  return load(options);
}
