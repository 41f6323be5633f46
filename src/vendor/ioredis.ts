/**
 * ioredis, as the Redis transport imports it; `npm run build` bundles this file
 * (scripts/bundle-vendor.js), like the other files here, so that the main thread of every
 * command that connects (`run`, `call`, `inspect ...`) loads one file at its start, not
 * ioredis's 40 CommonJS modules (docs/benchmark.md, "CLI start"). Worker threads never load it.
 * The bundle's parser makes reply strings directly, not Buffers first (see bundle-vendor.js):
 * so its `...Buffer` commands answer strings; nothing in lightbus uses them.
 */
export { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
