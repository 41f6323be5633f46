/**
 * The shell's shortcuts to the APIs on the bus: one object per API whose members call the RPC
 * or fire the event, `auth.check_password({ username: 'admin', password: 'secret' })`, put in
 * the shell's scope under the API's name (dotted names nest: `my_company.auth.check_password`)
 * and returned by `api('my_company.auth')`. They are rebuilt from the schemas on the bus when
 * those change, and never overwrite a variable of the user's or a global of JavaScript.
 */
import { inspect } from 'node:util';
import type { ApiSchema } from '../api/define.js';
import type { Bus, CallOptions, FireOptions } from '../client/bus.js';
import { UnknownApiError } from '../errors.js';
import { describeApi, eventSignature, rpcSignature, type FormatOptions } from './format.js';

/** A member of an API object: calls the RPC (resolving with its result) or fires the event (with its ids). */
export type MemberFunction = (params?: Record<string, unknown>, options?: CallOptions & FireOptions) => Promise<unknown>;

/** An API object: its members by name, and the APIs nested under its name. */
export type ApiObject = { readonly [name: string]: MemberFunction | ApiObject };

/**
 * Never a property of these objects: an object with a `then` function is a thenable, which
 * the shell would await when printing it. Such a member is reached with `bus.call()`.
 */
const THEN = 'then';

export class ApiObjects {
  /** Every object made here, so a refresh replaces only its own and never a user's variable. */
  private readonly ours = new WeakSet<object>();
  private byApi = new Map<string, ApiObject>();
  /** The top-level names put in the scope: API objects and bare namespaces. */
  private roots: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  private lastSchemas = '';

  constructor(
    private readonly bus: Bus,
    private readonly format: FormatOptions,
    /** Names never to define in the scope (`bus`, `api`). */
    private readonly reserved: ReadonlySet<string>,
  ) {}

  /** Rebuilds the objects if the schemas changed, and (re)defines them in `context`. */
  update(schemas: Record<string, ApiSchema>, context: Record<string, unknown>): void {
    const text = JSON.stringify(schemas);
    if (text !== this.lastSchemas) {
      this.lastSchemas = text;
      this.build(schemas);
    }
    this.install(context);
  }

  /** The object of one API, by its full name. */
  api(name: string): ApiObject {
    if (typeof name !== 'string') throw new TypeError('api(name): give the name of an API, e.g. api("auth")');
    const found = this.byApi.get(name);
    if (found) return found;
    const known = [...this.byApi.keys()].sort();
    throw new UnknownApiError(
      `no schema for API "${name}" on the bus (known: ${known.join(', ') || 'none'}); call it by name instead: bus.call('${name}.procedure', { ... })`,
      name,
    );
  }

  /**
   * The member names under a path of the scope (`['auth']`, `['my_company', 'auth']`), when
   * every step of it is one of these objects; `undefined` otherwise (for tab completion).
   */
  membersAt(context: Record<string, unknown>, path: readonly string[]): string[] | undefined {
    let current: object = context;
    for (const step of path) {
      const next = Object.getOwnPropertyDescriptor(current, step)?.value;
      if (typeof next !== 'object' || next === null || !this.ours.has(next)) return undefined;
      current = next;
    }
    return path.length === 0 ? undefined : Object.keys(current as object);
  }

  private build(schemas: Record<string, ApiSchema>): void {
    this.byApi = new Map(Object.keys(schemas).map((name) => [name, this.apiObject(name, schemas[name]!)]));
    this.roots = Object.create(null) as Record<string, unknown>;
    // Shallower names first, so the object of `a` exists before `a.b` is hung under it.
    const names = [...this.byApi.keys()].sort((x, y) => x.split('.').length - y.split('.').length || x.localeCompare(y));
    placing: for (const name of names) {
      const parts = name.split('.');
      if (parts.includes(THEN)) continue;
      let container: Record<string, unknown> = this.roots;
      for (const [i, part] of parts.slice(0, -1).entries()) {
        const node = Object.hasOwn(container, part) ? container[part] : this.namespace(container, part, parts.slice(0, i + 1).join('.'));
        // A member of that name holds the spot; `api(name)` still reaches the API.
        if (typeof node !== 'object' || node === null) continue placing;
        container = node as Record<string, unknown>;
      }
      const leaf = parts[parts.length - 1]!;
      if (!Object.hasOwn(container, leaf)) container[leaf] = this.byApi.get(name);
    }
  }

  private install(context: Record<string, unknown>): void {
    const isOurs = (value: unknown) => typeof value === 'object' && value !== null && this.ours.has(value);
    // Descriptors, not reads: some globals copied into the scope are getters that throw on it.
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(context))) {
      if (isOurs(descriptor.value) && !Object.hasOwn(this.roots, name)) delete context[name];
    }
    for (const [name, object] of Object.entries(this.roots)) {
      if (this.reserved.has(name) || name in globalThis) continue;
      const current = Object.getOwnPropertyDescriptor(context, name);
      if (current && !isOurs(current.value)) continue;
      Object.defineProperty(context, name, { value: object, writable: true, enumerable: true, configurable: true });
    }
  }

  private apiObject(name: string, schema: ApiSchema): ApiObject {
    const object = Object.create(null) as Record<string, unknown>;
    for (const [member, rpc] of Object.entries(schema.rpcs ?? {})) {
      if (member === THEN) continue;
      const call: MemberFunction = (params = {}, options) => this.bus.call(`${name}.${member}`, params, options);
      object[member] = this.member(call, member, `rpc ${name}.${rpcSignature(member, rpc)}`);
    }
    for (const [member, event] of Object.entries(schema.events ?? {})) {
      if (member === THEN) continue;
      const fire: MemberFunction = (params = {}, options) => this.bus.fire(`${name}.${member}`, params, options);
      object[member] = this.member(fire, member, `event ${name}.${eventSignature(member, event)}`);
    }
    Object.defineProperty(object, inspect.custom, { value: () => describeApi(name, schema, this.format) });
    this.ours.add(object);
    return object as ApiObject;
  }

  /** A bare parent of dotted API names (`my_company` for `my_company.auth`), put in `container`. */
  private namespace(container: Record<string, unknown>, part: string, prefix: string): ApiObject {
    const object = Object.create(null) as Record<string, unknown>;
    Object.defineProperty(object, inspect.custom, {
      value: () => `[APIs under ${prefix}: ${Object.keys(object).join(', ')}]`,
    });
    this.ours.add(object);
    container[part] = object;
    return object as ApiObject;
  }

  private member(fn: MemberFunction, name: string, signature: string): MemberFunction {
    Object.defineProperty(fn, 'name', { value: name });
    Object.defineProperty(fn, inspect.custom, { value: () => `[${signature}]` });
    return fn;
  }
}
