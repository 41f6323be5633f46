/**
 * Who may use the dashboard. It binds to loopback unless told otherwise, and then refuses
 * requests whose Host header names another host (a DNS-rebinding page would send its own).
 * Every mutating request carries the token in `Authorization: Bearer ...`: a header a page
 * of another origin cannot set without the server's leave (CORS), so a link or a form on
 * another site cannot call, replay or delete. Off loopback, reads need the token too.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Shorter tokens are refused: a guessable token on a reachable port is no lock. */
export const MIN_TOKEN_LENGTH = 16;

/** Whether `host` (a --host value) is a loopback address or name. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

export interface AccessSettings {
  host: string;
  /** The token asked for (flag, environment or config); undefined: one is generated. */
  token: string | undefined;
}

/**
 * The token the dashboard will require: the one given, or a random one for a loopback
 * dashboard (printed in its URL).
 *
 * @throws TypeError naming the fix: a non-loopback host without a token, or a short token.
 */
export function resolveToken({ host, token }: AccessSettings): string {
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new TypeError(`the auth token is ${token.length} characters long: give one of at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 24)`);
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new TypeError(
      `--host ${host} is not loopback: anyone who can reach it could read the bus and call its RPCs. Give --auth-token (or LIGHTBUS_DASHBOARD_TOKEN, or dashboard.authToken in the config), or keep the default --host 127.0.0.1`,
    );
  }
  return token ?? randomBytes(24).toString('base64url');
}

/** Compares in time independent of where the texts differ (hashing first evens out the lengths). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer TOKEN` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Whether a request's Host header may reach a loopback dashboard: a loopback name with any
 * port. A dashboard on another host accepts any Host (the token guards it).
 */
export function hostHeaderAllowed(hostHeader: string | undefined, boundToLoopback: boolean): boolean {
  if (!boundToLoopback) return true;
  if (hostHeader === undefined) return false;
  const name = hostHeader.replace(/:\d+$/, '');
  return isLoopbackHost(name);
}
