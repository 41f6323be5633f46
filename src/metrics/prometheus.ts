/**
 * The Prometheus figures of `lightbus run --metrics-port`: a {@link RuntimeObserver} that
 * counts into a prom-client registry of its own, and levels (slots, events held, lag) pulled
 * from the runtime when scraped. Labels are bounded by what the code names (APIs, procedures,
 * events, listeners, outcome kinds), never by message content. docs/observability.md lists them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RUN_AGAIN_ALONE } from '../runtime/crashed-batch.js';
import { LISTENER_NOT_HERE } from '../runtime/handler-runner.js';
import type { RuntimeLevels, RuntimeObserver } from '../runtime/observer.js';
import type { Outcome } from '../runtime/protocol.js';
import type { DeliveredEvent } from '../transport/types.js';
import { redisReconnects } from '../transport/redis/connection.js';
import { missedReadDeadlines } from '../transport/redis/read-deadline.js';

/** The outcome label of an error, by its name: a few kinds an operator tells apart, the rest `error`. */
const OUTCOME_OF_ERROR: Record<string, string> = {
  RpcTimeoutError: 'timeout',
  NoServerError: 'no_server',
  AbortError: 'aborted',
  DeadlineExceededError: 'deadline',
  WorkerCrashedError: 'crashed',
  ValidationError: 'invalid',
  BusClosedError: 'closed',
  FireTimeoutError: 'timeout',
};

function outcomeLabel(outcome: Outcome): string {
  return outcome.ok ? 'ok' : errorLabel(outcome.error.name);
}

function errorLabel(name: string): string {
  return OUTCOME_OF_ERROR[name] ?? 'error';
}

/** Seconds: from a quick call on loopback (~0.2 ms) to a handler near the default 5 s timeout. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class PrometheusMetrics implements RuntimeObserver {
  readonly registry = new Registry();
  private levels: () => RuntimeLevels | undefined = () => undefined;

  private readonly rpcCalls = new Counter({ name: 'lightbus_rpc_calls_total', help: 'RPCs this process called, by API, procedure and outcome', labelNames: ['api', 'procedure', 'outcome'], registers: [this.registry] });
  private readonly rpcCallSeconds = new Histogram({ name: 'lightbus_rpc_call_duration_seconds', help: 'How long RPCs this process called took, until their result or error', labelNames: ['api', 'procedure'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  private readonly rpcExecutions = new Counter({ name: 'lightbus_rpc_executions_total', help: 'RPCs this process executed, by API, procedure and outcome (abandoned: the caller withdrew it or its deadline passed)', labelNames: ['api', 'procedure', 'outcome'], registers: [this.registry] });
  private readonly rpcExecutionSeconds = new Histogram({ name: 'lightbus_rpc_execution_duration_seconds', help: 'How long RPC executions took, from handing the call to a worker to its answer', labelNames: ['api', 'procedure'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  private readonly eventsFired = new Counter({ name: 'lightbus_events_fired_total', help: 'Events this process fired, by API, event and outcome', labelNames: ['api', 'event', 'outcome'], registers: [this.registry] });
  private readonly eventsReadTotal = new Counter({ name: 'lightbus_events_read_total', help: 'Events the listeners of this process read from Redis', labelNames: ['listener'], registers: [this.registry] });
  private readonly eventsHandledTotal = new Counter({ name: 'lightbus_events_handled_total', help: "Events the listeners' handlers ran, by listener, API, event and outcome", labelNames: ['listener', 'api', 'event', 'outcome'], registers: [this.registry] });
  private readonly batchSeconds = new Histogram({ name: 'lightbus_event_batch_duration_seconds', help: 'How long event batches took to run, by listener', labelNames: ['listener'], buckets: DURATION_BUCKETS, registers: [this.registry] });
  private readonly deadLetters = new Counter({ name: 'lightbus_events_dead_lettered_total', help: 'Failed events moved to the dead-letter stream, by listener, API and event', labelNames: ['listener', 'api', 'event'], registers: [this.registry] });
  private readonly crashRedeliveries = new Counter({ name: 'lightbus_crash_redeliveries_total', help: 'Events whose handler killed its worker, run again alone, by listener', labelNames: ['listener'], registers: [this.registry] });
  private readonly workerRestarts = new Counter({ name: 'lightbus_worker_restarts_total', help: 'Worker threads that died and were replaced', registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const levels = () => this.levels();
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge, l: RuntimeLevels) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          const now = levels();
          this.reset();
          if (now) collect(this, now);
        },
      });
    gauge('lightbus_workers', 'Worker threads running (0 with --inline)', [], (g, l) => g.set(l.workers));
    gauge('lightbus_rpc_slots_in_use', 'RPC executions running (lent slots of calls waiting on nested calls not counted)', [], (g, l) => g.set(l.rpcSlots.used));
    gauge('lightbus_rpc_slots', 'RPC executions this process takes at once', [], (g, l) => g.set(l.rpcSlots.limit));
    gauge('lightbus_listener_slots_in_use', 'Event batches running, by listener', ['listener'], (g, l) => l.listeners.forEach((x) => g.set({ listener: x.name }, x.slots.used)));
    gauge('lightbus_listener_slots', 'Event batches a listener runs at once (its concurrency)', ['listener'], (g, l) => l.listeners.forEach((x) => g.set({ listener: x.name }, x.slots.limit)));
    gauge('lightbus_listener_pending_events', 'Events this process read and has not yet acknowledged, dead-lettered or released, by listener', ['listener'], (g, l) => l.listeners.forEach((x) => g.set({ listener: x.name }, x.held)));
    gauge('lightbus_listener_lag_seconds', 'How old the oldest event of the latest read was when read (0 while the listener holds no events), by listener', ['listener'], (g, l) =>
      l.listeners.forEach((x) => g.set({ listener: x.name }, x.lagMs / 1000)),
    );
    new Counter({
      name: 'lightbus_redis_reconnects_total',
      help: 'Redis connections of this process restored after a loss',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(redisReconnects());
      },
    });
    new Counter({
      name: 'lightbus_stalled_reads_total',
      help: 'Blocking reads that went past their liveness deadline (block time plus a margin) and had their connection recreated, by read (its connection role)',
      labelNames: ['read'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [read, count] of missedReadDeadlines()) this.inc({ read }, count);
      },
    });
  }

  /** Where the levels come from (the runner, once it exists). */
  pullLevelsFrom(levels: () => RuntimeLevels | undefined): void {
    this.levels = levels;
  }

  /** The text a scrape gets. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  rpcCalled(api: string, procedure: string, outcome: Outcome, seconds: number): void {
    this.rpcCalls.inc({ api, procedure, outcome: outcomeLabel(outcome) });
    this.rpcCallSeconds.observe({ api, procedure }, seconds);
  }

  rpcExecuted(api: string, procedure: string, outcome: Outcome, seconds: number, abandoned: boolean): void {
    this.rpcExecutions.inc({ api, procedure, outcome: abandoned ? 'abandoned' : outcomeLabel(outcome) });
    this.rpcExecutionSeconds.observe({ api, procedure }, seconds);
  }

  eventFired(api: string, event: string, error: Error | undefined): void {
    this.eventsFired.inc({ api, event, outcome: error ? errorLabel(error.name) : 'ok' });
  }

  eventsRead(listener: string, count: number): void {
    this.eventsReadTotal.inc({ listener }, count);
  }

  eventsHandled(listener: string, events: readonly DeliveredEvent[], outcomes: readonly Outcome<null>[], seconds: number): void {
    this.batchSeconds.observe({ listener }, seconds);
    outcomes.forEach((outcome, i) => {
      // Not a handler's outcome: the event runs again alone, or in another process.
      if (!outcome.ok && (outcome.error.name === RUN_AGAIN_ALONE || outcome.error.name === LISTENER_NOT_HERE)) return;
      const { api, event } = events[i]!.message;
      this.eventsHandledTotal.inc({ listener, api, event, outcome: outcomeLabel(outcome) });
    });
  }

  deadLettered(listener: string, event: DeliveredEvent): void {
    this.deadLetters.inc({ listener, api: event.message.api, event: event.message.event });
  }

  crashRedelivered(listener: string): void {
    this.crashRedeliveries.inc({ listener });
  }

  workerReplaced(): void {
    this.workerRestarts.inc();
  }
}
