/**
 * How the benchmark learns what happened inside the `lightbus run` child: its handlers fire
 * report events (with the time they took, by the wall clock), and this mailbox, fed by a
 * listener on the benchmark's own process bus, hands each report to whoever waits for it.
 * The report travels after the moment it records, so its own latency is not in any figure.
 */
import type { Bus } from 'lightbus';
import type { BenchApis } from '../fixtures/bench-api.js';
import { withTimeout } from './measure.js';

export interface Report {
  name: 'drained' | 'recovered' | 'latencies';
  params: Record<string, unknown> & { seq: number };
}

export class ReportMailbox {
  private readonly arrived: Report[] = [];
  private readonly waiters = new Set<{ match: (r: Report) => boolean; resolve: (r: Report) => void }>();

  /** Starts listening; resolves once the consumer group exists. */
  static async open(bus: Bus, apis: BenchApis): Promise<ReportMailbox> {
    const mailbox = new ReportMailbox();
    const { drained, recovered, latencies } = apis.report.events;
    const handle = bus.listen([drained, recovered, latencies], { name: 'observer', since: '0', onError: 'acknowledge-and-log' }, (event) => {
      mailbox.deliver({ name: event.name, params: event.params });
    });
    await withTimeout(handle.ready, 10_000, 'creating the report listener');
    return mailbox;
  }

  /** Waits for the report `name` about event `seq`. */
  waitFor<P extends Report['params']>(name: Report['name'], seq: number, timeoutMs: number): Promise<P> {
    const match = (r: Report) => r.name === name && r.params.seq === seq;
    const already = this.arrived.find(match);
    if (already) return Promise.resolve(already.params as P);
    let waiter: { match: typeof match; resolve: (r: Report) => void } | undefined;
    const arrival = new Promise<Report>((resolve) => {
      waiter = { match, resolve };
      this.waiters.add(waiter);
    });
    return withTimeout(arrival, timeoutMs, `waiting for the "${name}" report of event ${seq}`)
      .then((r) => r.params as P)
      .finally(() => this.waiters.delete(waiter!));
  }

  /** Every report `name` that arrived so far, each `seq` once. */
  all<P extends Report['params']>(name: Report['name']): P[] {
    const bySeq = new Map<number, P>();
    for (const report of this.arrived) if (report.name === name) bySeq.set(report.params.seq, report.params as P);
    return [...bySeq.values()];
  }

  /** Forgets the reports `name` that arrived so far (between two measurements). */
  clear(name: Report['name']): void {
    for (let i = this.arrived.length - 1; i >= 0; i--) if (this.arrived[i]!.name === name) this.arrived.splice(i, 1);
  }

  private deliver(report: Report): void {
    this.arrived.push(report);
    for (const waiter of this.waiters) if (waiter.match(report)) waiter.resolve(report);
  }
}
