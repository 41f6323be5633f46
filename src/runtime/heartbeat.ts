/**
 * The heartbeat every bus process writes (`lightbus inspect` lists the live processes and
 * marks those that went silent): who it is, what it serves and listens to, its scheduled tasks,
 * how many workers.
 */
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { PresenceTransport, ProcessInfo, TaskInfo } from '../transport/types.js';

const HEARTBEAT_MS = 5000;
const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface HeartbeatSource {
  service: string;
  process: string;
  apis(): string[];
  listeners(): string[];
  tasks(): TaskInfo[];
  workers(): number;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly presence: PresenceTransport,
    private readonly source: HeartbeatSource,
    private readonly logger: Logger,
    private readonly intervalMs = HEARTBEAT_MS,
  ) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes a heartbeat now (what the process serves changed), so inspect need not wait for the next one. */
  beatNow(): void {
    if (this.timer) void this.beat();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.presence.leave(this.source.service, this.source.process);
    } catch (error) {
      this.logger.debug({ err: error }, 'could not remove the heartbeat');
    }
  }

  private async beat(): Promise<void> {
    const info: ProcessInfo = {
      service: this.source.service,
      process: this.source.process,
      host: hostname(),
      pid: process.pid,
      version,
      apis: this.source.apis(),
      listeners: this.source.listeners(),
      tasks: this.source.tasks(),
      workers: this.source.workers(),
      startedAt: this.startedAt,
      lastSeen: new Date().toISOString(),
      intervalMs: this.intervalMs,
    };
    try {
      await this.presence.beat(info);
    } catch (error) {
      this.logger.debug({ err: error }, 'heartbeat not written; will try again');
    }
  }
}
