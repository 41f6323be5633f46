/**
 * The Lua scripts of the Redis side, one file each in `./lua/` (their headers name their KEYS
 * and ARGV), read once when this module loads. {@link withScripts} defines them on a connection
 * as ioredis commands, as BullMQ does: a command runs by `EVALSHA`, and ioredis sends the
 * script itself only when Redis answers NOSCRIPT (a restarted server, a first use).
 *
 * The files sit beside this module in `src/` and in `dist/` (the build copies them:
 * `scripts/sync-dist.js`), so they load the same from a checkout, a build and an installed package.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { RedisConnection } from './connection.js';

const LUA_DIR = new URL('./lua/', import.meta.url);

/** One script: the command name, its text, and how many keys it takes (undefined: the caller passes the count first). */
export interface LuaScript {
  command: string;
  file: string;
  lua: string;
  numberOfKeys: number | undefined;
}

/** The command a file defines: `send-calls.lua` is `lightbusSendCalls`. */
export function commandName(file: string): string {
  return 'lightbus' + file.replace(/\.lua$/, '').replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}

/**
 * Reads one script's `-- keys: N` header line: a number, or `any` when the count varies per
 * run (then the caller passes it first, as with EVAL).
 *
 * @throws Error naming the file when the header has no such line.
 */
export function parseScript(file: string, lua: string): LuaScript {
  const keys = /^-- keys: (\d+|any)\b/m.exec(lua)?.[1];
  if (keys === undefined) throw new Error(`${file}: its header has no "-- keys: N" (or "-- keys: any") line`);
  return { command: commandName(file), file, lua, numberOfKeys: keys === 'any' ? undefined : Number(keys) };
}

/** Every script, read once. */
export const LUA_SCRIPTS: readonly LuaScript[] = readdirSync(LUA_DIR)
  .filter((file) => file.endsWith('.lua'))
  .sort()
  .map((file) => parseScript(file, readFileSync(new URL(file, LUA_DIR), 'utf8')));

type Arg = string | number;

/** The scripts as commands; a `-- keys: any` script takes the number of keys first. */
export interface LightbusScripts {
  /** send-calls.lua */
  lightbusSendCalls(numberOfKeys: number, ...keysThenArgs: Arg[]): Promise<number>;
  /** send-results.lua */
  lightbusSendResults(returnPathKey: string, ttlMs: number, ...results: string[]): Promise<number>;
  /** drain-calls.lua */
  lightbusDrainCalls(numberOfKeys: number, ...keysThenArgs: Arg[]): Promise<Array<string | number>>;
  /** xadds.lua */
  lightbusXadds(numberOfKeys: number, ...keysThenArgs: string[]): Promise<Array<string | Error>>;
  /** replay-dead-letter.lua */
  lightbusReplayDeadLetter(deadLetterStream: string, stream: string, id: string, maxLength: string): Promise<string | null>;
  /** take-marker.lua (on a cluster) */
  lightbusTakeMarker(marker: string): Promise<number>;
  /** push-calls.lua (on a cluster) */
  lightbusPushCalls(queue: string, ttlMs: number, ...blobs: string[]): Promise<number>;
  /** replay-dead-letter-to-group.lua */
  lightbusReplayDeadLetterToGroup(deadLetterStream: string, replayStream: string, id: string, maxLength: string, group: string): Promise<string | null>;
}

export type ScriptedConnection = RedisConnection & LightbusScripts;

const defined = new WeakSet<RedisConnection>();

/** `connection` with every script defined on it (once per connection). */
export function withScripts(connection: RedisConnection): ScriptedConnection {
  if (!defined.has(connection)) {
    for (const { command, lua, numberOfKeys } of LUA_SCRIPTS) {
      connection.defineCommand(command, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    }
    defined.add(connection);
  }
  return connection as ScriptedConnection;
}
