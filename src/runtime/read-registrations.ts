/**
 * What modules register and which APIs they define, read without serving anything: the worker
 * entry in its registrations-only mode (worker.ts) imports them in a thread of its own, answers
 * `ready` with the schemas, and is terminated, so timers the modules start do not matter.
 * `lightbus dumpschema MODULES...` and `lightbus codegen` read the modules' APIs this way.
 */
import { Worker } from 'node:worker_threads';
import type { ApiSchema } from '../api/define.js';
import type { ResolvedConfig } from '../config/schema.js';
import { deserializeError, LightbusError, ModuleLoadError } from '../errors.js';
import { withTimeout } from '../util/timeouts.js';
import type { Registrations, RegistrationsWorkerStart, ToInvoker } from './protocol.js';
import { workerEntry, workerExecArgv } from './worker-entry.js';

export interface ModuleRegistrations {
  registrations: Registrations;
  /** The schema of every API the modules export, serve or use. */
  schemas: Record<string, ApiSchema>;
}

/**
 * Imports `modules` in a registrations-only worker thread. Whatever the modules print and log
 * (warnings and worse) goes to stderr: stdout may carry a dump.
 *
 * @throws ModuleLoadError when a module fails to import; LightbusError past `timeoutMs`.
 */
export async function readModuleRegistrations(modules: string[], config: ResolvedConfig, timeoutMs: number): Promise<ModuleRegistrations> {
  const start: RegistrationsWorkerStart = { mode: 'registrations', workerId: 0, modules, config, logLevel: 'warn' };
  const worker = new Worker(workerEntry, { workerData: start, execArgv: workerExecArgv, stdout: true });
  worker.stdout.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  try {
    return await withTimeout(
      new Promise<ModuleRegistrations>((resolve, reject) => {
        worker.on('message', (batch: ToInvoker[]) => {
          for (const message of batch) {
            if (message.type === 'log') for (const line of message.lines) process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
            else if (message.type === 'ready') resolve({ registrations: message.registrations, schemas: message.schemas ?? {} });
            else if (message.type === 'load-failed') {
              const error = deserializeError(message.error);
              reject(new ModuleLoadError(`could not load ${message.modulePath}: ${error.message}`, message.modulePath, { cause: error }));
            }
          }
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`the thread loading the modules exited with code ${code}`)));
      }),
      timeoutMs,
      () => new LightbusError(`the modules did not finish loading within ${timeoutMs} ms (${modules.join(', ')}): does one wait for something at import time? Wait longer with --timeout.`),
    );
  } finally {
    await worker.terminate();
  }
}
