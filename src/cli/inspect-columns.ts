/**
 * How each kind of row of `lightbus inspect` looks: its table columns for people. As JSON a
 * row is printed as it is (the row types are the documented JSON shapes), so scripts get
 * every field and tables only the ones that fit.
 */
import { formatDuration, formatList, formatTime, type Column } from './output.js';
import type { ApiRow, Server } from '../inspect/apis.js';
import type { DeadLetterRow } from '../inspect/dead-letters.js';
import type { EventRow } from '../inspect/events.js';
import type { GroupRow } from '../inspect/groups.js';
import type { ProcessRow } from '../inspect/processes.js';
import type { QueueRow } from '../inspect/queues.js';
import type { TaskInfo } from '../transport/types.js';

export const PROCESS_COLUMNS: Column<ProcessRow>[] = [
  { header: 'SERVICE', value: (p) => p.service },
  { header: 'PROCESS', value: (p) => p.process },
  { header: 'STATUS', value: (p) => p.status },
  { header: 'HOST', value: (p) => p.host },
  { header: 'PID', value: (p) => p.pid, align: 'right' },
  { header: 'VERSION', value: (p) => p.version },
  { header: 'WORKERS', value: (p) => p.workers, align: 'right' },
  { header: 'UPTIME', value: (p) => formatDuration(p.uptimeMs), align: 'right' },
  { header: 'LAST SEEN', value: (p) => `${formatDuration(p.lastSeenAgoMs)} ago`, align: 'right' },
  { header: 'APIS', value: (p) => formatList(p.apis), shrink: true },
  { header: 'LISTENERS', value: (p) => formatList(p.listeners), shrink: true },
  { header: 'TASKS', value: (p) => formatList((p.tasks ?? []).map(formatTask)), shrink: true },
];

/** `cleanup (every 5m00s)`, `report (cron 0 6 * * *)`: the schedule, not the next run, which a table cannot keep fresh. */
export function formatTask(task: TaskInfo): string {
  const schedule = task.everyMs !== undefined ? `every ${formatDuration(task.everyMs)}` : `cron ${task.cron ?? '?'}`;
  return `${task.name} (${schedule}${task.running ? ', running' : ''})`;
}

export const API_COLUMNS: Column<ApiRow>[] = [
  { header: 'API', value: (a) => a.api },
  { header: 'RPCS', value: (a) => (a.schema ? formatList(a.rpcs) : '? (no schema published)'), shrink: true },
  { header: 'EVENTS', value: (a) => (a.schema ? formatList(a.events) : '?'), shrink: true },
  { header: 'SERVED BY', value: (a) => formatServers(a.servedBy), shrink: true },
];

export const QUEUE_COLUMNS: Column<QueueRow>[] = [
  { header: 'API', value: (q) => q.api },
  { header: 'QUEUE', value: (q) => q.key },
  { header: 'WAITING', value: (q) => q.depth, align: 'right' },
  { header: 'SERVED BY', value: (q) => formatServers(q.servedBy), shrink: true },
];

export const GROUP_COLUMNS: Column<GroupRow>[] = [
  { header: 'STREAM', value: (g) => g.stream },
  { header: 'GROUP', value: (g) => g.group },
  { header: 'PENDING', value: (g) => g.pending, align: 'right' },
  { header: 'LAG', value: (g) => (g.lag === null ? '?' : g.lag), align: 'right' },
  { header: 'LAST DELIVERED', value: (g) => g.lastDeliveredId },
  {
    header: 'CONSUMERS (PENDING, IDLE)',
    value: (g) => formatList(g.consumers.map((c) => `${c.name} (${c.pending}, ${formatDuration(c.idleMs)})`)),
    shrink: true,
  },
];

export const EVENT_COLUMNS: Column<EventRow>[] = [
  { header: 'TIME', value: (e) => formatTime(e.time), width: 24 },
  { header: 'STREAM ID', value: (e) => e.streamId, width: 15 },
  { header: 'EVENT', value: (e) => (e.malformed !== undefined ? `(unreadable in ${e.stream})` : `${e.api}.${e.event}`), width: 32 },
  { header: 'MESSAGE ID', value: (e) => e.id, width: 36 },
  { header: 'PARAMS', value: (e) => e.malformed ?? JSON.stringify(e.params), shrink: true },
];

export const DEAD_LETTER_COLUMNS: Column<DeadLetterRow>[] = [
  { header: 'ID', value: (d) => d.id },
  { header: 'TIME', value: (d) => formatTime(d.time) },
  { header: 'EVENT', value: (d) => (d.api !== undefined ? `${d.api}.${d.event}` : '(unreadable)') },
  { header: 'FROM', value: (d) => `${d.stream} ${d.streamId}` },
  { header: 'GROUP', value: (d) => d.group },
  { header: 'REASON', value: (d) => d.reason, shrink: true },
  { header: 'PARAMS', value: (d) => (d.params !== undefined ? JSON.stringify(d.params) : d.malformed), shrink: true },
];

/** `svc:proc, svc:proc2 (silent)`, or `nobody` when no process serves it. */
export function formatServers(servers: readonly Server[]): string {
  if (servers.length === 0) return 'nobody';
  return servers.map((s) => `${s.service}:${s.process}${s.status === 'silent' ? ' (silent)' : ''}`).join(', ');
}
