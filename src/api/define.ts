/**
 * API definitions: one object gives the compiler the types of every event and RPC, and gives
 * the runtime a draft-07 JSON Schema of each parameter set and result (built with TypeBox).
 * Names go on the wire verbatim, so snake_case names for Python peers work unchanged.
 */
import { Type, type Static, type TObject, type TProperties, type TSchema } from '../vendor/typebox.js';
import { noteDefinition } from '../util/module-origins.js';

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';

/** An RPC as written in {@link defineApi}: its parameters and its response schema. */
export interface RpcSpec<P extends TProperties = TProperties, R extends TSchema = TSchema> {
  readonly parameters: P;
  readonly response: R;
}

/** An event as written in {@link defineApi}: its parameters. */
export interface EventSpec<P extends TProperties = TProperties> {
  readonly parameters: P;
}

/** Declares an RPC: `rpc({ username: Type.String() }, Type.Boolean())`. */
export function rpc<const P extends TProperties, const R extends TSchema>(parameters: P, response: R): RpcSpec<P, R> {
  return { parameters, response };
}

/** Declares an event: `event({ username: Type.String() })`. */
export function event<const P extends TProperties>(parameters: P): EventSpec<P> {
  return { parameters };
}

/** A reference to one RPC of one API, typed by its parameters and result. */
export interface RpcRef<Params = Record<string, unknown>, Result = unknown> {
  readonly kind: 'rpc';
  readonly api: string;
  readonly name: string;
  readonly parametersSchema: TObject;
  readonly responseSchema: TSchema;
  /** Phantom fields: they carry the types for the compiler and hold nothing at run time. */
  readonly __params?: Params;
  readonly __result?: Result;
}

/** A reference to one event of one API, typed by its parameters. */
export interface EventRef<Params = Record<string, unknown>, Name extends string = string> {
  readonly kind: 'event';
  readonly api: string;
  readonly name: Name;
  readonly parametersSchema: TObject;
  readonly __params?: Params;
}

export type ParamsOf<T> = T extends RpcRef<infer P, unknown> ? P : T extends EventRef<infer P, string> ? P : never;
export type ResultOf<T> = T extends RpcRef<Record<string, unknown>, infer R> ? R : never;

export interface ApiSpec {
  readonly rpcs?: Record<string, RpcSpec>;
  readonly events?: Record<string, EventSpec>;
}

type RpcRefs<S extends Record<string, RpcSpec>> = {
  readonly [K in keyof S]: RpcRef<Static<TObject<S[K]['parameters']>>, Static<S[K]['response']>>;
};
type EventRefs<S extends Record<string, EventSpec>> = {
  readonly [K in keyof S]: EventRef<Static<TObject<S[K]['parameters']>>, K & string>;
};

/** A defined API: its name and a typed reference to each of its RPCs and events. */
export interface Api<S extends ApiSpec = ApiSpec> {
  readonly name: string;
  readonly rpcs: S['rpcs'] extends Record<string, RpcSpec> ? RpcRefs<S['rpcs']> : Record<never, never>;
  readonly events: S['events'] extends Record<string, EventSpec> ? EventRefs<S['events']> : Record<never, never>;
}

/** The JSON Schema of an API as published on the bus (see docs/wire-format.md, "Schemas"). */
export interface ApiSchema {
  rpcs: Record<string, { parameters: Record<string, unknown>; response: Record<string, unknown> }>;
  events: Record<string, { parameters: Record<string, unknown> }>;
}

/**
 * What an RPC handler gets beside its parameters: the call's cancellation and deadline. Calls
 * the handler makes inherit both without being told (they are withdrawn with it, and wait at
 * most its remaining time unless they set their own `timeoutMs`).
 */
export interface RpcContext {
  /** The call's id on the wire. */
  readonly callId: string;
  /**
   * Aborts when the caller withdraws the call (its reason an `AbortError`) or its deadline
   * passes (a `DeadlineExceededError`). Pass it to what the handler awaits (`fetch`, timers,
   * child processes) to stop early: nobody waits for the result any more.
   */
  readonly signal: AbortSignal;
  /** When the caller gives up (a `Date.now()` time), when known: unknown for a Python caller's call taken the moment it was pushed. */
  readonly deadline: number | undefined;
  /** Milliseconds until {@link deadline}; `Infinity` when it is unknown. */
  remainingMs(): number;
}

/** The implementation of an API's RPCs: one function per RPC, sync or async. */
export type Implementation<A extends Api> = {
  [K in keyof A['rpcs']]: A['rpcs'][K] extends RpcRef<infer P, infer R> ? (params: P, context: RpcContext) => R | Promise<R> : never;
};

const API_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const MEMBER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Defines an API.
 *
 * ```ts
 * export const auth = defineApi('auth', {
 *   rpcs: { check_password: rpc({ username: Type.String(), password: Type.String() }, Type.Boolean()) },
 *   events: { user_registered: event({ username: Type.String(), email: Type.String() }) },
 * });
 * ```
 */
export function defineApi<const S extends ApiSpec>(name: string, spec: S): Api<S> {
  noteDefinition(name);
  if (!API_NAME.test(name)) {
    throw new TypeError(`API name "${name}" is invalid: use letters, digits and underscores, with dots between parts (e.g. "my_company.auth")`);
  }
  const rpcs: Record<string, RpcRef> = {};
  for (const [member, def] of Object.entries(spec.rpcs ?? {})) {
    checkMemberName(name, member);
    rpcs[member] = Object.freeze({
      kind: 'rpc' as const,
      api: name,
      name: member,
      parametersSchema: parametersObject(def.parameters, `RPC ${name}.${member}() parameters`),
      responseSchema: { ...def.response, $schema: DRAFT_07, title: `RPC ${name}.${member}() response` } as TSchema,
    });
  }
  const events: Record<string, EventRef> = {};
  for (const [member, def] of Object.entries(spec.events ?? {})) {
    checkMemberName(name, member);
    if (rpcs[member]) throw new TypeError(`API "${name}" defines "${member}" both as an RPC and as an event`);
    events[member] = Object.freeze({
      kind: 'event' as const,
      api: name,
      name: member,
      parametersSchema: parametersObject(def.parameters, `Event ${name}.${member} parameters`),
    });
  }
  return Object.freeze({ name, rpcs: Object.freeze(rpcs), events: Object.freeze(events) }) as unknown as Api<S>;
}

function checkMemberName(api: string, member: string): void {
  if (!MEMBER_NAME.test(member)) {
    throw new TypeError(`"${member}" in API "${api}" is not a valid name: use letters, digits and underscores`);
  }
}

function parametersObject(properties: TProperties, title: string): TObject {
  return Type.Object(properties, { additionalProperties: false, title, $schema: DRAFT_07 });
}

/** The schema of an API in the layout published to Redis. */
export function apiSchema(api: Api): ApiSchema {
  const plain = (schema: TSchema) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  const out: ApiSchema = { rpcs: {}, events: {} };
  for (const ref of Object.values(api.rpcs) as RpcRef[]) {
    out.rpcs[ref.name] = { parameters: plain(ref.parametersSchema), response: plain(ref.responseSchema) };
  }
  for (const ref of Object.values(api.events) as EventRef[]) {
    out.events[ref.name] = { parameters: plain(ref.parametersSchema) };
  }
  return out;
}
