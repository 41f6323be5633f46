/**
 * The project's targets, in one place, and how each measured figure is laid out beside its
 * floor: RPC p50 within 2x of the list ping-pong p50, >= 30,000 RPC/s with 64 in flight (issue 11; 25,000 before it),
 * >= 40,000 events/s, redelivery after a worker crash < 1000 ms, idle RSS with 2 workers
 * < 150 MB, validation < 5 % of an RPC round trip; an `orderBy` listener on 2 workers
 * >= 60,000 events/s, with p99 < 50 ms from fire to handled at 20,000 events/s.
 */
import type { CpuPerOperation } from './lib/cpu.js';
import type { LatencySummary } from './lib/measure.js';
import { formatMs, formatRate, type CpuRow, type FloorRow, type Row } from './lib/report.js';
import type { ListFloor } from './scenarios/floor-lists.js';
import type { StreamFloor } from './scenarios/floor-streams.js';
import type { ValidationCost } from './scenarios/validation-cost.js';
import type { EventThroughput } from './scenarios/event-throughput.js';
import type { CrashRedelivery } from './scenarios/crash-redelivery.js';
import type { OrderedEvents } from './scenarios/ordered-events.js';
import { IN_FLIGHT, type RpcThroughput } from './scenarios/rpc-throughput.js';
import type { TracingCost } from './scenarios/tracing-cost.js';
import type { TopologyFigures } from './scenarios/cluster.js';

export const TARGETS = {
  rpcP50TimesFloor: 2,
  rpcPerSecond: 30_000,
  eventsPerSecond: 40_000,
  redeliveryMs: 1000,
  idleRssMb: 150,
  validationPercent: 5,
  orderedEventsPerSecond: 60_000,
  orderedSteadyP99Ms: 50,
};

/** What the scenarios returned; a scenario that failed leaves its entry out. */
export interface Measured {
  listFloor?: ListFloor | undefined;
  streamFloor?: StreamFloor | undefined;
  idleRss?: { rssMb: number; idleMs: number } | undefined;
  rpcLatency?: (LatencySummary & { cpu: CpuPerOperation }) | undefined;
  rpcThroughput?: RpcThroughput | undefined;
  validation?: ValidationCost | undefined;
  events?: EventThroughput | undefined;
  crash?: CrashRedelivery | undefined;
  ordered?: OrderedEvents | undefined;
  tracing?: TracingCost | undefined;
  cluster?: TopologyFigures[] | undefined;
  rssAfterRun?: number | undefined;
}

export function floorRows(m: Measured): FloorRow[] {
  const rows: FloorRow[] = [];
  if (m.listFloor) {
    const { serial, batched } = m.listFloor;
    rows.push({
      label: 'list ping-pong between 2 processes, 1 in flight',
      text: `p50 ${formatMs(serial.p50)}, p99 ${formatMs(serial.p99)}, ${formatRate(serial.perSecond)} serial`,
    });
    rows.push({ label: `list ping-pong, ${batched.inFlight} in flight, drained in bulk`, text: formatRate(batched.perSecond) });
  }
  if (m.streamFloor) {
    rows.push({ label: '20,000 XADD in one pipeline', text: formatRate(m.streamFloor.xaddPipelinePerSecond) });
    rows.push({ label: `XREADGROUP COUNT ${m.streamFloor.readCount} + XACK, one after another`, text: formatRate(m.streamFloor.readAckPerSecond) });
  }
  return rows;
}

export function cpuRows(m: Measured): CpuRow[] {
  const rows: CpuRow[] = [];
  if (m.listFloor) {
    rows.push({ label: 'floor: list ping-pong, 1 in flight', cpu: m.listFloor.serial.cpu });
    rows.push({ label: `floor: list ping-pong, ${m.listFloor.batched.inFlight} in flight`, cpu: m.listFloor.batched.cpu });
  }
  if (m.rpcLatency) rows.push({ label: 'RPC, 1 in flight (per call)', cpu: m.rpcLatency.cpu });
  if (m.rpcThroughput) rows.push({ label: `RPC, ${m.rpcThroughput.inFlight} in flight (per call)`, cpu: m.rpcThroughput.cpu });
  if (m.events) rows.push({ label: 'event, fire to handled (per event)', cpu: m.events.cpu });
  if (m.ordered) rows.push({ label: 'event, orderBy listener (per event)', cpu: m.ordered.cpu });
  for (const f of m.cluster ?? []) {
    rows.push({ label: `${topologyLabel(f)}: RPC, ${f.rpc.inFlight} in flight (per call)`, cpu: f.rpc.cpu });
    rows.push({ label: `${topologyLabel(f)}: event (per event)`, cpu: f.events.cpu });
  }
  return rows;
}

export function buildRows(m: Measured): Row[] {
  const rows: Row[] = [];
  const floorP50 = m.listFloor?.serial.p50;
  if (m.rpcLatency) {
    rows.push({
      id: 'rpc_p50_ms',
      label: '1. RPC round trip p50, 1 in flight',
      value: m.rpcLatency.p50,
      unit: 'ms',
      ...(floorP50 !== undefined ? { floor: { value: floorP50, label: 'list p50' } } : {}),
      ...(floorP50 !== undefined ? { target: { text: `<= ${TARGETS.rpcP50TimesFloor}x floor`, pass: m.rpcLatency.p50 <= TARGETS.rpcP50TimesFloor * floorP50 } } : {}),
    });
    rows.push({
      id: 'rpc_p99_ms',
      label: '   RPC round trip p99, 1 in flight',
      value: m.rpcLatency.p99,
      unit: 'ms',
      ...(m.listFloor ? { floor: { value: m.listFloor.serial.p99, label: 'list p99' } } : {}),
    });
  }
  if (m.rpcThroughput) {
    rows.push({
      id: 'rpc_per_s_64',
      label: `2. RPC throughput, ${m.rpcThroughput.inFlight} in flight`,
      value: m.rpcThroughput.perSecond,
      unit: '/s',
      ...(m.listFloor ? { floor: { value: m.listFloor.serial.perSecond, label: 'list serial' } } : {}),
      target: { text: `>= ${formatRate(TARGETS.rpcPerSecond)}`, pass: m.rpcThroughput.perSecond >= TARGETS.rpcPerSecond },
      ...(m.listFloor ? { note: `(list ping-pong with ${m.listFloor.batched.inFlight} in flight, drained in bulk: ${formatRate(m.listFloor.batched.perSecond)}; ratio to it ${(m.rpcThroughput.perSecond / m.listFloor.batched.perSecond).toFixed(2)}x)` } : {}),
    });
  }
  if (m.events) {
    rows.push({
      id: 'events_per_s',
      label: '3. Events, first fire to last handled, 1 group',
      value: m.events.perSecond,
      unit: '/s',
      ...(m.streamFloor ? { floor: { value: m.streamFloor.xaddPipelinePerSecond, label: 'XADD pipelined' } } : {}),
      target: { text: `>= ${formatRate(TARGETS.eventsPerSecond)}`, pass: m.events.perSecond >= TARGETS.eventsPerSecond },
      note: `(${m.events.events.toLocaleString('en-US')} events; all fired at ${formatRate(m.events.firePerSecond)}${m.streamFloor ? `; read side floor, XREADGROUP COUNT ${m.streamFloor.readCount} + XACK: ${formatRate(m.streamFloor.readAckPerSecond)}` : ''}${m.events.verified ? '' : '; WARNING: the group still had pending or unread entries'})`,
    });
  }
  if (m.crash) {
    rows.push({
      id: 'crash_redelivery_ms',
      label: '4. Redelivery after a worker crash',
      value: m.crash.redeliveryMs,
      unit: 'ms',
      target: { text: `< ${TARGETS.redeliveryMs} ms`, pass: m.crash.redeliveryMs < TARGETS.redeliveryMs },
      ...(m.crash.processSurvived ? {} : { note: '(WARNING: the lightbus run process did not survive the crash of its worker)' }),
    });
  }
  if (m.idleRss) {
    rows.push({
      id: 'idle_rss_mb',
      label: '5. Idle RSS, lightbus run --workers 2',
      value: m.idleRss.rssMb,
      unit: 'MB',
      target: { text: `< ${TARGETS.idleRssMb} MB`, pass: m.idleRss.rssMb < TARGETS.idleRssMb },
      note: `(idle ${(m.idleRss.idleMs / 1000).toFixed(1)} s after its first answer${m.rssAfterRun !== undefined ? `; ${m.rssAfterRun.toFixed(1)} MB after the whole run` : ''})`,
    });
  }
  if (m.validation) {
    rows.push({
      id: 'validation_percent',
      label: '6. Validation, share of an RPC round trip',
      value: m.validation.percentOfRoundTrip,
      unit: '%',
      target: { text: `< ${TARGETS.validationPercent} %`, pass: m.validation.percentOfRoundTrip < TARGETS.validationPercent },
      note: `(p50 ${formatMs(m.validation.on.p50)} validated vs ${formatMs(m.validation.off.p50)} not, ${m.validation.on.count} calls each, interleaved)`,
    });
  }
  if (m.ordered) {
    const { ordered } = m;
    rows.push({
      id: 'ordered_events_per_s',
      label: '8. Events, orderBy listener, 2 workers',
      value: ordered.perSecond,
      unit: '/s',
      ...(m.streamFloor ? { floor: { value: m.streamFloor.xaddPipelinePerSecond, label: 'XADD pipelined' } } : {}),
      target: { text: `>= ${formatRate(TARGETS.orderedEventsPerSecond)}`, pass: ordered.perSecond >= TARGETS.orderedEventsPerSecond },
      note: `(${ordered.events.toLocaleString('en-US')} events over ${ordered.keys} keys, fired at once; fire to handled p50 ${formatMs(ordered.burst.p50)}, p99 ${formatMs(ordered.burst.p99)})`,
    });
    rows.push({
      id: 'ordered_steady_p99_ms',
      label: `9. orderBy listener, p99 fire to handled at ${formatRate(ordered.steady.rate)}`,
      value: ordered.steady.p99,
      unit: 'ms',
      target: { text: `< ${TARGETS.orderedSteadyP99Ms} ms`, pass: ordered.steady.p99 < TARGETS.orderedSteadyP99Ms },
      note: `(${ordered.steady.count.toLocaleString('en-US')} events fired at ${formatRate(ordered.steady.achievedRate)}; p50 ${formatMs(ordered.steady.p50)}, max ${formatMs(ordered.steady.max)})`,
    });
  }
  if (m.tracing) rows.push(...tracingRows(m.tracing));
  if (m.cluster) rows.push(...clusterRows(m.cluster));
  return rows;
}

function topologyLabel(f: TopologyFigures): string {
  return `${f.topology === 'single' ? 'one server' : `cluster, ${f.keys}`}, ${f.apis} API${f.apis > 1 ? 's' : ''}`;
}

/** Figure 10: the same child on one redis-server and on a 3-master cluster, one API and several. */
function clusterRows(figures: TopologyFigures[]): Row[] {
  return figures.flatMap((f) => {
    const id = `${f.topology}_${f.keys.replace('-', '_')}_${f.apis}api`;
    const connections = f.connections.map((node) => node.total).join('+');
    return [
      { id: `${id}_rpc_per_s`, label: `10. ${topologyLabel(f)}: RPC, ${f.rpc.inFlight} in flight`, value: f.rpc.perSecond, unit: '/s' as const,
        note: `(queues on ${f.mastersUsed} of ${f.connections.length} server(s); lightbus run holds ${connections} connections)` },
      { id: `${id}_events_per_s`, label: `    ${topologyLabel(f)}: events, first fire to last handled`, value: f.events.perSecond, unit: '/s' as const,
        note: `(${f.events.events.toLocaleString('en-US')} events over ${f.apis} stream(s), one group each)` },
    ];
  });
}

/** Figure 7: the same RPC figures with tracing off (no SDK) and on (in-memory exporter), in blocks that alternate. */
function tracingRows(t: TracingCost): Row[] {
  const spans = `${t.spans.caller.toLocaleString('en-US')} spans exported here and ${t.spans.workers.toLocaleString('en-US')} in the child's workers for ${t.tracedCalls.toLocaleString('en-US')} traced calls`;
  return [
    { id: 'tracing_off_rpc_p50_ms', label: '7a. RPC p50, tracing off (no SDK)', value: t.off.latency.p50, unit: 'ms', note: `(p99 ${formatMs(t.off.latency.p99)}, ${t.off.latency.count} calls)` },
    { id: 'tracing_on_rpc_p50_ms', label: '7b. RPC p50, tracing on (in-memory exporter)', value: t.on.latency.p50, unit: 'ms', note: `(p99 ${formatMs(t.on.latency.p99)}, ${t.on.latency.count} calls)` },
    { id: 'tracing_off_rpc_per_s', label: `7c. RPC/s, ${IN_FLIGHT} in flight, tracing off`, value: t.off.perSecond, unit: '/s' },
    { id: 'tracing_on_rpc_per_s', label: `7d. RPC/s, ${IN_FLIGHT} in flight, tracing on`, value: t.on.perSecond, unit: '/s', note: `(${spans})` },
  ];
}
