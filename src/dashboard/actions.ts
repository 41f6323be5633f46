/**
 * What the dashboard changes on the bus, each behind the token (./access.ts): calling an RPC
 * (its parameters checked against the published schema first, so the form can show what is
 * wrong field by field), and replaying or deleting dead letters through src/inspect/. The bus
 * that makes calls is created on the first call: a dashboard nobody calls from holds no more
 * connections than inspect does.
 */
import type { Logger } from 'pino';
import type { Bus } from '../client/bus.js';
import { createBus } from '../client/create-bus.js';
import { apiConfig } from '../config/schema.js';
import { SchemaValidator } from '../core/validator.js';
import type { ApiSchema } from '../api/define.js';
import { LightbusError, type ValidationIssue } from '../errors.js';
import { memberSchema } from '../inspect/apis.js';
import { deleteDeadLetter, listeningGroups, replayDeadLetter, type Replayed } from '../inspect/dead-letters.js';
import type { Inspector } from '../inspect/inspector.js';

/** Longest wait a call from the page may ask for. */
export const MAX_CALL_TIMEOUT_MS = 60_000;
/** Dead letters one "replay all" handles; the page says when more are left. */
export const MAX_REPLAY_ALL = 1000;

export type CallOutcome =
  | { ok: true; result: unknown }
  | { ok: false; invalid: true; issues: ValidationIssue[] }
  | { ok: false; error: { name: string; message: string; data?: unknown } };

export interface ReplayAllOutcome {
  replayed: Replayed[];
  failed: Array<{ id: string; error: string }>;
  /** Dead letters still waiting afterwards. */
  left: number;
}

export class Actions {
  private bus: Bus | undefined;
  private readonly validator = new SchemaValidator();

  constructor(
    private readonly inspector: Inspector,
    private readonly logger: Logger,
  ) {}

  /** Calls `api.procedure`; a refusal, a remote failure or a timeout is an outcome, not a throw. */
  async call(api: string, procedure: string, params: Record<string, unknown>, timeoutMs?: number): Promise<CallOutcome> {
    try {
      const schemas = (await this.inspector.schemas()) as Record<string, ApiSchema>;
      const schema = memberSchema(schemas, api, 'rpcs', procedure)?.parameters;
      if (schema !== undefined) {
        const issues = this.validator.issues(schema, params);
        if (issues.length > 0) return { ok: false, invalid: true, issues };
      }
      const wait = Math.min(MAX_CALL_TIMEOUT_MS, timeoutMs ?? apiConfig(this.inspector.config, api).rpcTimeoutMs);
      // Its heartbeat says what it is: a caller-only process on the bus, the dashboard's.
      this.bus ??= createBus({ resolvedConfig: { ...this.inspector.config, processName: `${this.inspector.config.processName}-dashboard` }, logger: this.logger });
      const result = await this.bus.call(`${api}.${procedure}`, params, { timeoutMs: wait });
      return { ok: true, result: result ?? null };
    } catch (error) {
      const e = error as Error;
      return { ok: false, error: { name: e.name, message: e.message, ...(error instanceof LightbusError ? { data: error.toData() } : {}) } };
    }
  }

  /** Replays one dead letter, to its group (default) or to every group of its stream. */
  async replay(id: string, options: { allGroups?: boolean; force?: boolean } = {}): Promise<Replayed> {
    const { redis, config } = this.inspector;
    return replayDeadLetter(redis, config.events.deadLetterStream, id, {
      maxStreamLength: config.events.maxStreamLength,
      force: options.force ?? false,
      allGroups: options.allGroups ?? false,
      ...(options.allGroups ? {} : { listeningGroups: listeningGroups(await this.inspector.processes()) }),
    });
  }

  /** Replays the oldest {@link MAX_REPLAY_ALL} dead letters one by one; one that fails does not stop the rest. */
  async replayAll(options: { allGroups?: boolean } = {}): Promise<ReplayAllOutcome> {
    const letters = (await this.inspector.deadLetters({ patterns: [] }, MAX_REPLAY_ALL)).reverse();
    const replayed: Replayed[] = [];
    const failed: ReplayAllOutcome['failed'] = [];
    for (const letter of letters) {
      try {
        replayed.push(await this.replay(letter.id, options));
      } catch (error) {
        failed.push({ id: letter.id, error: (error as Error).message });
      }
    }
    return { replayed, failed, left: await this.inspector.deadLetterCount() };
  }

  async delete(id: string): Promise<void> {
    await deleteDeadLetter(this.inspector.redis, this.inspector.config.events.deadLetterStream, id);
  }

  async close(): Promise<void> {
    await this.bus?.close();
  }
}
