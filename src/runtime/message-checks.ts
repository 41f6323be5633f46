/**
 * Validation in every direction the bus moves a message, in one place. Outgoing: RPC
 * parameters at the caller, event parameters at the firer, results at the server. Incoming:
 * parameters at the server, event parameters at the listener, results at the caller; incoming
 * values are then revived (`DateTime` -> `Date`). Schemas come from local definitions first,
 * else from the bus; each direction can be switched off per API, and strict validation turns
 * "no schema known" from a warning (logged once per API) into an error.
 */
import type { Logger } from 'pino';
import { apiConfig, type ApiConfig, type ResolvedConfig } from '../config/schema.js';
import { UnknownApiError, UnknownMemberError } from '../errors.js';
import type { Registry } from './registry.js';
import { reviveValue } from '../core/revive.js';
import type { SchemaValidator } from '../core/validator.js';

type Direction = 'incoming' | 'outgoing';

export class MessageChecks {
  private readonly warned = new Set<string>();
  /** Settings per API, merged once: `find` runs on every message. */
  private readonly settings = new Map<string, ApiConfig>();
  /**
   * What `find` found, by kind and direction, then API, then member: no object or key string
   * is made per message. Emptied when the registry's schemas change.
   */
  private readonly found = { rpc: { incoming: new Lookups(), outgoing: new Lookups() }, event: { incoming: new Lookups(), outgoing: new Lookups() } };
  private foundVersion = -1;

  constructor(
    private readonly registry: Registry,
    private readonly validator: SchemaValidator,
    private readonly config: Pick<ResolvedConfig, 'apis'>,
    private readonly logger: Logger,
  ) {}

  rpcParameters(direction: Direction, api: string, procedure: string, kwargs: Record<string, unknown>): Record<string, unknown> {
    return this.check(direction, this.find(direction, api, procedure, 'rpc'), 'parameters', kwargs, api, procedure) as Record<string, unknown>;
  }

  rpcResult(direction: Direction, api: string, procedure: string, result: unknown): unknown {
    return this.check(direction, this.find(direction, api, procedure, 'rpc'), 'response', result, api, procedure);
  }

  eventParameters(direction: Direction, api: string, event: string, kwargs: Record<string, unknown>): Record<string, unknown> {
    return this.check(direction, this.find(direction, api, event, 'event'), 'parameters', kwargs, api, event) as Record<string, unknown>;
  }

  private check(direction: Direction, schemas: Found | undefined, key: 'parameters' | 'response', value: unknown, api: string, member: string): unknown {
    const schema = schemas?.[key];
    if (!schema) return value;
    if (schemas.validate) this.validator.validate(schema, value, { api, member, what: key });
    // Revival does not depend on validation: a handler typed to take a Date gets one either way.
    return direction === 'incoming' ? reviveValue(schema, value) : value;
  }

  /** The schemas for a member, and whether to validate against them in this direction. */
  private find(direction: Direction, api: string, member: string, kind: 'rpc' | 'event'): Found | undefined {
    if (this.foundVersion !== this.registry.schemaVersion) {
      this.foundVersion = this.registry.schemaVersion;
      for (const lookups of [this.found.rpc.incoming, this.found.rpc.outgoing, this.found.event.incoming, this.found.event.outgoing]) lookups.clear();
    }
    const lookups = this.found[kind][direction];
    const cached = lookups.get(api, member);
    if (cached) return cached;
    const found = this.lookUp(direction, api, member, kind);
    // Only schemas found are kept: a miss warns or throws each time, as it should.
    if (found) lookups.set(api, member, found);
    return found;
  }

  private lookUp(direction: Direction, api: string, member: string, kind: 'rpc' | 'event'): Found | undefined {
    let settings = this.settings.get(api);
    if (!settings) this.settings.set(api, (settings = apiConfig(this.config, api)));
    const validate = settings.validate[direction];
    const found = kind === 'rpc' ? this.registry.rpcSchemas(api, member) : wrap(this.registry.eventSchema(api, member));
    if (found) return { ...found, validate };
    if (!validate) return undefined;
    const apiKnown = this.registry.knowsApi(api);
    if (settings.strictValidation) {
      if (apiKnown) throw new UnknownMemberError(`API "${api}" has no ${kind === 'rpc' ? 'RPC' : 'event'} "${member}" (strict validation is on)`, api, member);
      throw new UnknownApiError(
        `no schema is known for API "${api}" and strict validation is on: start a process that serves it, or turn off apis.${api}.strictValidation`,
        api,
      );
    }
    const key = `${api}.${member}`;
    if (!this.warned.has(key)) {
      this.warned.add(key);
      this.logger.warn({ api, member }, `no schema known for ${key}; its messages are not validated`);
    }
    return undefined;
  }
}

interface Found {
  parameters?: object;
  response?: object;
  validate: boolean;
}

function wrap(parameters: object | undefined): { parameters: object } | undefined {
  return parameters ? { parameters } : undefined;
}

/** Found schemas by API, then member. */
class Lookups {
  private readonly byApi = new Map<string, Map<string, Found>>();

  get(api: string, member: string): Found | undefined {
    return this.byApi.get(api)?.get(member);
  }

  set(api: string, member: string, found: Found): void {
    let members = this.byApi.get(api);
    if (!members) this.byApi.set(api, (members = new Map()));
    members.set(member, found);
  }

  clear(): void {
    this.byApi.clear();
  }
}
