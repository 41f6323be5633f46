/** Process heartbeats within one process, shared by the buses of one memory store. */
import type { PresenceTransport, ProcessInfo } from '../types.js';

const tables = new WeakMap<object, Map<string, ProcessInfo>>();

export class MemoryPresenceTransport implements PresenceTransport {
  private readonly table: Map<string, ProcessInfo>;

  constructor(owner: object = {}) {
    let table = tables.get(owner);
    if (!table) tables.set(owner, (table = new Map()));
    this.table = table;
  }

  async beat(info: ProcessInfo): Promise<void> {
    this.table.set(`${info.service}:${info.process}`, structuredClone(info));
  }

  async leave(service: string, process: string): Promise<void> {
    this.table.delete(`${service}:${process}`);
  }

  async list(): Promise<ProcessInfo[]> {
    return [...this.table.values()].map((i) => structuredClone(i));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
