/**
 * Validation in every direction the bus moves a message, in one place. Outgoing: RPC
 * parameters at the caller, event parameters at the firer, results at the server. Incoming:
 * parameters at the server, event parameters at the listener, results at the caller; incoming
 * values are then revived (`DateTime` -> `Date`). Schemas come from local definitions first,
 * else from the bus; each direction can be switched off per API, and strict validation turns
 * "no schema known" from a warning (logged once per API) into an error.
 */
import type { Logger } from 'pino';
import { apiConfig, type ResolvedConfig } from '../config/schema.js';
import { UnknownApiError, UnknownMemberError } from '../errors.js';
import type { Registry } from '../runtime/registry.js';
import { reviveValue } from './revive.js';
import type { SchemaValidator } from './validator.js';

type Direction = 'incoming' | 'outgoing';

export class MessageChecks {
  private readonly warned = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly validator: SchemaValidator,
    private readonly config: Pick<ResolvedConfig, 'apis'>,
    private readonly logger: Logger,
  ) {}

  rpcParameters(direction: Direction, api: string, procedure: string, kwargs: Record<string, unknown>): Record<string, unknown> {
    const schema = this.find(direction, api, procedure, 'rpc')?.parameters;
    return this.check(direction, schema, kwargs, api, procedure, 'parameters') as Record<string, unknown>;
  }

  rpcResult(direction: Direction, api: string, procedure: string, result: unknown): unknown {
    const schema = this.find(direction, api, procedure, 'rpc')?.response;
    return this.check(direction, schema, result, api, procedure, 'response');
  }

  eventParameters(direction: Direction, api: string, event: string, kwargs: Record<string, unknown>): Record<string, unknown> {
    const schema = this.find(direction, api, event, 'event')?.parameters;
    return this.check(direction, schema, kwargs, api, event, 'parameters') as Record<string, unknown>;
  }

  private check(direction: Direction, schema: object | undefined, value: unknown, api: string, member: string, what: string): unknown {
    if (!schema) return value;
    this.validator.validate(schema, value, { api, member, what });
    return direction === 'incoming' ? reviveValue(schema, value) : value;
  }

  /** The schemas to check against, or undefined when this direction is off or none is known. */
  private find(direction: Direction, api: string, member: string, kind: 'rpc' | 'event'): { parameters?: object; response?: object } | undefined {
    const settings = apiConfig(this.config, api);
    if (!settings.validate[direction]) return undefined;
    const found = kind === 'rpc' ? this.registry.rpcSchemas(api, member) : wrap(this.registry.eventSchema(api, member));
    if (found) return found;
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

function wrap(parameters: object | undefined): { parameters: object } | undefined {
  return parameters ? { parameters } : undefined;
}
