/**
 * The entry of every worker thread: those of `lightbus run`, and the one `lightbus dumpschema`
 * reads the modules' APIs in. It installs the worker backend (so the user's `createBus()` talks
 * to the invoker), imports the user's modules, and reports what they registered with one
 * `ready` message. A serving worker then runs what the invoker sends until told to stop; a
 * registrations-only one (`mode: 'registrations'`) adds the schemas of the APIs the modules
 * define, answers every command itself (registrations are noted, calls and fires refused) and
 * serves nothing: its parent terminates it.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { LightbusError, deserializeError, serializeError } from '../errors.js';
import { ProgressWriter } from './batch-progress.js';
import { definedSchemas } from './defined-schemas.js';
import { HandlerRunner, type EventProgress } from './handler-runner.js';
import { loadUserModules } from './load-modules.js';
import { loadedUserFiles } from '../util/module-loader.js';
import { MessageBatcher } from './message-batcher.js';
import { RpcCallContext } from './rpc-context.js';
import { handlerKey, TurnPlan } from './turn-plan.js';
import type { ClientCommand, Outcome, ServingWorkerStart, ToInvoker, ToWorker, WorkerStartData } from './protocol.js';
import { kWorkerBackend, WorkerBackend } from './worker-backend.js';
import { flushSpans, tracingOn } from '../tracing/tracer.js';

/** How long a stopping thread waits for its SDK to export buffered spans (the pool ends threads within 2 s). */
const SPAN_FLUSH_MS = 1000;

if (isMainThread || !parentPort) {
  throw new Error('src/runtime/worker is the entry of lightbus worker threads and cannot run on the main thread');
}

const port = parentPort;
const start = workerData as WorkerStartData;
const config = start.config as ResolvedConfig;
// A microtask gathers the answers of a batch of sync handlers (they all resolve in one
// microtask run) without the extra turn of the loop that setImmediate costs a lone answer.
const outbox = new MessageBatcher<ToInvoker>((batch) => port.postMessage(batch), queueMicrotask);
const post = (message: ToInvoker) => outbox.send(message);

// Each record is posted as soon as it is written: a record still buffered when a handler
// blocks the thread, or when the thread is terminated, would be lost.
const logger = pino(
  { level: start.logLevel, base: { worker: start.workerId }, timestamp: pino.stdTimeFunctions.isoTime },
  { write: (line: string) => outbox.sendNow({ type: 'log', lines: [line] }) },
);

const registrationsOnly = start.mode === 'registrations';
const backend = new WorkerBackend(registrationsOnly ? answerAtImport : post, config, logger);
(globalThis as Record<symbol, unknown>)[kWorkerBackend] = backend;

/** A registrations-only worker's own answer to a command: registrations are noted (in the registry), nothing runs. */
function answerAtImport(message: ToInvoker): void {
  const command = message as ClientCommand;
  const outcome: Outcome =
    command.type === 'call' || command.type === 'fire'
      ? {
          ok: false,
          error: serializeError(
            new LightbusError(
              `lightbus dumpschema imports modules only to read their API definitions; "${command.type}" at import time is not run. Move it into a handler or an onStart() hook.`,
            ),
          ),
        }
      : { ok: true, value: null };
  queueMicrotask(() => backend.settle({ type: 'reply', requestId: command.requestId, outcome }));
}

// A serving worker takes replies while its modules load: one may `await bus.listen(...).ready` at import.
if (!registrationsOnly) serve(start as ServingWorkerStart);
const loaded = await loadUserModules(start.modules, backend.registry);
if (!loaded.ok) {
  outbox.sendNow({ type: 'load-failed', modulePath: loaded.modulePath, error: serializeError(loaded.error) });
  // Stay alive until terminated: exiting here could race the message above.
  await new Promise(() => undefined);
} else if (registrationsOnly) {
  outbox.sendNow({ type: 'ready', registrations: loaded.registrations, schemas: definedSchemas(loaded.exported, backend.registry) });
  port.close();
} else {
  const files = (start as ServingWorkerStart).reportFiles ? { files: loadedUserFiles() } : {};
  outbox.sendNow({ type: 'ready', registrations: loaded.registrations, ...files });
}

/** Runs what the invoker sends (replies, work), until `shutdown`. */
function serve(serving: ServingWorkerStart): void {
  const runner = new HandlerRunner(backend.registry, backend.validator, config, logger);
  const progress = new ProgressWriter(serving.progress);

  /** Records how far a batch got, and posts its failures at once (both outlive this thread). */
  function batchProgress(requestId: number): EventProgress {
    const slot = progress.begin(requestId);
    // A failure is posted before the count moves past it: a count the invoker reads (after a
    // crash, or at the end of a shutdown's grace period) never covers a failure it cannot know.
    return (index, outcome) => {
      if (!outcome.ok) outbox.sendNow({ type: 'event-failed', requestId, index, outcome });
      return slot?.finished(index + 1);
    };
  }

  // The invoker posts what it dispatches in one turn as one array. Its messages run in turns of
  // this loop: a message of a handler not known to be quick in a turn of its own, as if posted
  // alone (its answer leaves before the next handler starts, which may burn CPU); the messages
  // of quick handlers together, their answers in one postMessage (turn-plan.ts).
  const inbox: ToWorker[] = [];
  /** The RPCs running here, by request id: an `abort` reaches the handler's signal through its context. */
  const rpcContexts = new Map<number, RpcCallContext>();
  port.on('message', (batch: ToWorker[]) => {
    const idle = inbox.length === 0;
    for (const message of batch) {
      // An abort does not wait its turn: the handler it aborts may be running now, or queued
      // behind a CPU-bound sibling (then it never starts).
      if (message.type === 'abort') abortRpc(message.requestId, deserializeError(message.reason));
      else inbox.push(message);
    }
    if (idle && inbox.length > 0) runNext();
  });

  function abortRpc(requestId: number, reason: Error): void {
    const running = rpcContexts.get(requestId);
    if (running) return running.abort(reason);
    const queued = inbox.find((m): m is Extract<ToWorker, { type: 'execute-rpc' }> => m.type === 'execute-rpc' && m.requestId === requestId);
    if (!queued) return; // already answered
    const context = new RpcCallContext(queued.call.id, queued.call.deadline);
    context.abort(reason);
    rpcContexts.set(requestId, context);
  }

  const turns = new TurnPlan();
  const timeTurn = () => turns.timeTurn(performance.now());
  function runNext(): void {
    // One clock read per message: a run ends when the next one starts.
    let now = performance.now();
    turns.begin(now);
    try {
      do {
        const key = handlerKey(inbox[0]!);
        if (!turns.admits(key, now)) break;
        receive(inbox.shift()!);
        const ended = performance.now();
        turns.ran(key, now, ended);
        now = ended;
      } while (inbox.length > 0);
    } finally {
      setImmediate(inbox.length > 0 ? runNext : timeTurn);
    }
  }

  function receive(message: ToWorker): void {
    switch (message.type) {
      case 'reply':
        backend.settle(message);
        break;
      case 'execute-rpc': {
        const context = rpcContexts.get(message.requestId) ?? new RpcCallContext(message.call.id, message.call.deadline);
        rpcContexts.set(message.requestId, context);
        void runner.runRpc(message.call, message.executionId, context).then((outcome) => {
          rpcContexts.delete(message.requestId);
          post({ type: 'rpc-done', requestId: message.requestId, outcome, quick: turns.isQuick(handlerKey(message)) });
        });
        break;
      }
      case 'abort':
        break; // handled on arrival
      case 'execute-events':
        void runner
          .runEvents(message.listener, message.events, message.executionId, batchProgress(message.requestId))
          .then((outcomes) => post({ type: 'events-done', requestId: message.requestId, outcomes }));
        break;
      case 'run-task':
        void runner.runTask(message.task, message.executionId).then((outcome) => post({ type: 'task-done', requestId: message.requestId, outcome }));
        break;
      case 'run-hooks':
        void runner.runHooks(message.phase).then((outcome) => post({ type: 'hooks-done', requestId: message.requestId, outcome }));
        break;
      case 'schemas':
        backend.registry.setRemoteSchemas(message.schemas);
        break;
      case 'shutdown': {
        // Nothing is in flight by now (the invoker drained first): let the thread end, once
        // the spans its SDK still buffers are exported (the thread's buffers end with it).
        const end = () => {
          outbox.flush();
          port.close();
        };
        if (tracingOn()) void flushSpans(SPAN_FLUSH_MS).finally(end);
        else end();
        break;
      }
    }
  }
}
