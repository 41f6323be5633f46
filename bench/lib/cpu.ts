/**
 * CPU time per operation, by process: the benchmark itself (the caller), the server process
 * (the `lightbus run` child, or the echo process of a floor: its main thread, where the
 * invoker runs, apart from its other threads: the workers and V8's helpers) and redis-server. Unlike rates, CPU time per operation
 * hardly moves when other programs compete for the machine, and on 2 cores it bounds the rate:
 * at most 2 s of CPU per second, shared by all of them.
 *
 * Linux only (/proc); the child's and Redis' times have the 10 ms grain of clock ticks, so
 * they are read around spans of a second or more. Redis' time includes any other client's, and
 * is the sum over every redis-server given (the masters of a cluster).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

/** Linux's USER_HZ, 100 on every mainstream kernel. */
const TICK_US = 10_000;

interface Snapshot {
  benchUs: number;
  childMainUs: number;
  childOtherUs: number;
  redisUs: number | undefined;
}

/** CPU microseconds per operation, by where they were spent. */
export interface CpuPerOperation {
  benchUs: number;
  childMainUs: number;
  childOtherUs: number;
  redisUs: number | undefined;
  totalUs: number;
  /** Operations per second the machine's cores could sustain at this cost, if nothing else ran. */
  ceilingPerSecond: number;
}

/** utime + stime of one /proc stat line, in microseconds (fields 14 and 15, counted after the `(comm)` field). */
function statTimeUs(path: string): number {
  const line = readFileSync(path, 'utf8');
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

export class CpuMeter {
  constructor(
    private readonly childPid: number,
    /** The redis-server processes measured: none when Redis is not on this machine. */
    private readonly redisPids: readonly number[],
    private readonly cores: number,
  ) {}

  snapshot(): Snapshot {
    let childMainUs = 0;
    let childOtherUs = 0;
    for (const tid of readdirSync(`/proc/${this.childPid}/task`)) {
      try {
        const us = statTimeUs(`/proc/${this.childPid}/task/${tid}/stat`);
        if (Number(tid) === this.childPid) childMainUs += us;
        else childOtherUs += us;
      } catch {
        // A thread that ended between the listing and the read: a respawned worker's predecessor.
      }
    }
    const usage = process.cpuUsage();
    return { benchUs: usage.user + usage.system, childMainUs, childOtherUs, redisUs: this.redisTimeUs() };
  }

  /** CPU per operation between `start` and now, for `operations` operations. */
  perOperation(start: Snapshot, operations: number): CpuPerOperation {
    const end = this.snapshot();
    const per = (a: number, b: number) => (b - a) / operations;
    const redisUs = start.redisUs !== undefined && end.redisUs !== undefined ? per(start.redisUs, end.redisUs) : undefined;
    const out = {
      benchUs: per(start.benchUs, end.benchUs),
      childMainUs: per(start.childMainUs, end.childMainUs),
      childOtherUs: per(start.childOtherUs, end.childOtherUs),
      redisUs,
    };
    const totalUs = out.benchUs + out.childMainUs + out.childOtherUs + (redisUs ?? 0);
    return { ...out, totalUs, ceilingPerSecond: (this.cores * 1e6) / totalUs };
  }

  /** The same meter for another server process (a floor's echo). */
  forServer(pid: number): CpuMeter {
    return new CpuMeter(pid, this.redisPids, this.cores);
  }

  private redisTimeUs(): number | undefined {
    if (this.redisPids.length === 0) return undefined;
    try {
      return this.redisPids.reduce((sum, pid) => sum + statTimeUs(`/proc/${pid}/stat`), 0);
    } catch {
      return undefined;
    }
  }
}

/** Share of the machine's CPU busy over `ms` (0-100, all cores), from /proc/stat: how loaded the machine is before the run. */
export async function machineBusyPercent(ms: number): Promise<number> {
  const read = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3]! + (fields[4] ?? 0);
    const total = fields.reduce((sum, x) => sum + x, 0);
    return { idle, total };
  };
  const before = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = read();
  const total = after.total - before.total;
  return total === 0 ? 0 : (100 * (total - (after.idle - before.idle))) / total;
}

/**
 * How fast this machine runs JavaScript right now: milliseconds for a fixed task (100,000
 * JSON round trips of a call-sized object), the best of three. Virtual machines slow down when
 * their host is busy, which no load figure inside them shows; printed before and after the
 * run, it tells whether two runs are comparable.
 */
export function calibrationMs(): number {
  const call = { id: 'b3c1f2a0-0000-4000-8000-000000000000', api: 'bench', procedure: 'echo', kwargs: { text: 'hello', n: 1 } };
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const start = performance.now();
    for (let i = 0; i < 100_000; i++) sink += (JSON.parse(JSON.stringify(call)) as typeof call).kwargs.n;
    best = Math.min(best, performance.now() - start);
  }
  if (sink === 0) throw new Error('unreachable');
  return best;
}

/** Cores, their model, Node and Redis: the first line of a report. */
export function describeMachine(redisVersion: string): string {
  return `${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}, Redis ${redisVersion}`;
}

/** What the load before a run and the speed around it say about how comparable its rates are. */
export function machineNotes(busyBefore: number, speedBefore: number, speedAfter: number): string[] {
  return [
    `machine busy before the run: ${busyBefore.toFixed(0)} % of ${cpus().length} cores${busyBefore > 10 ? ' (WARNING: other programs were running; rates will be low, CPU time per operation is less affected)' : ''}`,
    `machine speed (100,000 JSON round trips, best of 3): ${speedBefore.toFixed(0)} ms before the run, ${speedAfter.toFixed(0)} ms after (lower is faster; compare runs with similar values)`,
  ];
}
