/**
 * Types of APIs served elsewhere (by another team, or by Python), filled in by
 * `lightbus codegen` through declaration merging:
 *
 * ```ts
 * declare module 'lightbus' {
 *   interface RemoteRpcs { 'auth.check_password': { params: { username: string; password: string }; result: boolean } }
 *   interface RemoteEvents { 'auth.user_registered': { params: { username: string; email: string } } }
 * }
 * ```
 *
 * With them, `bus.call('auth.check_password', ...)` is checked by the compiler like a call
 * through a local definition. Names not listed stay untyped.
 */

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface RemoteRpcs {}

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface RemoteEvents {}

/** A member name that codegen did not type. */
export type UntypedName<N extends string, Known> = N extends keyof Known ? never : N;
