/** Configuration: the schema and types, loading and resolving, defaults and helpers. */
export {
  LightbusConfigSchema,
  ApiConfigSchema,
  RedisConfigSchema,
  EventTransportConfigSchema,
  RpcTransportConfigSchema,
  RunnerConfigSchema,
  MetricsConfigSchema,
  API_DEFAULTS,
  apiConfig,
  defineConfig,
} from './schema.js';
export type { LightbusConfigInput, ApiConfigInput, ApiConfig, ResolvedConfig } from './schema.js';
export { loadConfig, resolveConfig } from './load.js';
export type { LoadConfigOptions, ResolveConfigOptions } from './load.js';
export { CONFIG_DEFAULTS, defaultServiceName, defaultProcessName, sanitizeName } from './defaults.js';
export { ENV_VARS } from './env.js';
export type { ConfigFlags } from './env.js';
export { CONFIG_FILE_NAMES, findConfigFile } from './file.js';
export { redisUrlProblem, REDIS_URL_EXAMPLE } from './validate.js';
