/**
 * The checks `bus.listen` makes of its options before anything is registered: a mistake here
 * is the programmer's, so it throws at once, naming the listener and what to write instead.
 */
import { inspect } from 'node:util';
import type { EventRef } from '../api/define.js';

export function checkListenOptions(refs: ReadonlyArray<EventRef | string>, options: { name: string; concurrency?: number; orderBy?: unknown }): void {
  const { name, concurrency, orderBy } = options;
  if (refs.length === 0) throw new TypeError(`listen("${name}"): give at least one event`);
  if (!name || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new TypeError(`listen(): options.name must be a non-empty name of letters, digits, "_", "." or "-" (got ${JSON.stringify(name)})`);
  }
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new RangeError(`listen("${name}"): options.concurrency must be a positive integer, got ${concurrency}`);
  }
  if (orderBy === undefined) return;
  if (typeof orderBy !== 'string' || orderBy === '') {
    throw new TypeError(`listen("${name}"): options.orderBy must be the name of an event parameter, got ${inspect(orderBy)}`);
  }
  // The compiler checks this for typed definitions; this catches untyped code and casts. Events
  // named by string have no definition here, so their parameters cannot be checked.
  for (const ref of refs) {
    if (typeof ref === 'string') continue;
    const params = Object.keys(ref.parametersSchema.properties ?? {});
    if (!params.includes(orderBy)) {
      throw new TypeError(
        `listen("${name}"): options.orderBy "${orderBy}" is not a parameter of ${ref.api}.${ref.name} (its parameters: ${params.join(', ') || 'none'}); name one that every event of the listener has`,
      );
    }
  }
}
