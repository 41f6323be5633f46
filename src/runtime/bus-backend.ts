/**
 * What a {@link Bus} stands on: a registry of this thread's handlers, a validator, the config,
 * and a way to send commands to the invoker. There are two: in a plain process the invoker
 * lives beside the bus (`ProcessBackend`); in a worker of `lightbus run` it is in the main
 * thread and commands go through the worker's port (`WorkerBackend`). The bus code is the same.
 */
import type { ResolvedConfig } from '../config/schema.js';
import type { ClientCommand } from './protocol.js';
import type { Registry } from './registry.js';
import type { SchemaValidator } from '../core/validator.js';
import type { Logger } from 'pino';

/** A command before the link numbers it. */
export type CommandRequest = ClientCommand extends infer C ? (C extends { requestId: number } ? Omit<C, 'requestId'> : never) : never;

export interface BusBackend {
  readonly kind: 'process' | 'worker';
  readonly registry: Registry;
  readonly validator: SchemaValidator;
  readonly logger: Logger;
  /** Resolves once the config is known (a process bus loads it from file). */
  config(): Promise<ResolvedConfig>;
  /**
   * Sends a command to the invoker; resolves with its value, rejects with the rebuilt error.
   * `signal` (calls only) withdraws it: the promise rejects at once with an `AbortError`.
   */
  request(command: CommandRequest, signal?: AbortSignal): Promise<unknown>;
  /** Called after serve/listen/every/onStart registered something in the registry. */
  registered(): void;
  close(): Promise<void>;
}
