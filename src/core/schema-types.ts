/**
 * Schema helpers for values JSON cannot carry. On the wire they are strings, as the contract
 * says (ISO-8601 for dates, base64 for bytes), so Python peers read them; in the handler's
 * hands they are a `Date` and a `Uint8Array` again.
 */
import { Type, type TUnsafe } from '../vendor/typebox.js';

/** Marks the schemas whose values are revived after validation. */
export const kRevive = 'x-lightbus-revive';

/** A date and time: a `Date` in TypeScript, an ISO-8601 `date-time` string on the wire. */
export function DateTime(options: { description?: string } = {}): TUnsafe<Date> {
  return Type.Unsafe<Date>({ type: 'string', format: 'date-time', [kRevive]: 'date', ...options });
}

/** Binary data: a `Uint8Array` in TypeScript, base64 text on the wire. */
export function Bytes(options: { description?: string } = {}): TUnsafe<Uint8Array> {
  return Type.Unsafe<Uint8Array>({ type: 'string', contentEncoding: 'base64', [kRevive]: 'bytes', ...options });
}
