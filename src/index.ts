/**
 * lightbus: RPCs and events between services over Redis, wire-compatible with Python Lightbus.
 * Every public export is named here by hand, so nothing internal leaks.
 */
export { Type, type Static, type TSchema } from './vendor/typebox.js';
export { defineApi, rpc, event, apiSchema } from './api/define.js';
export { DateTime, Bytes } from './core/schema-types.js';
export type { Api, ApiSpec, ApiSchema, RpcRef, EventRef, RpcSpec, EventSpec, Implementation, RpcContext, ParamsOf, ResultOf } from './api/define.js';
export type { RemoteRpcs, RemoteEvents } from './api/remote.js';
export { createBus, type CreateBusOptions } from './client/create-bus.js';
export { Bus } from './client/bus.js';
export type { CallOptions, FireOptions, ListenOptions, ListenerHandle, ServeOptions } from './client/bus.js';
export type { IncomingEvent, BusHooks } from './runtime/registry.js';
export type { FiredEvent, OnErrorPolicy } from './runtime/protocol.js';
export type { Since } from './transport/types.js';
export { defineConfig } from './config/schema.js';
export type { LightbusConfigInput as LightbusConfig, ResolvedConfig } from './config/schema.js';
export { loadConfig } from './config/load-lazily.js';
export { MemoryStore } from './transport/memory/store.js';
export {
  LightbusError,
  RemoteError,
  RpcTimeoutError,
  NoServerError,
  FireTimeoutError,
  ValidationError,
  UnknownApiError,
  UnknownMemberError,
  ConfigError,
  WorkerCrashedError,
  BusClosedError,
  AbortError,
  DeadlineExceededError,
  ModuleLoadError,
} from './errors.js';
export type { ValidationIssue, SerializedError } from './errors.js';
