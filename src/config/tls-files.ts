/**
 * The TLS files a config names must be readable. Found at load time, a missing file is a
 * config problem naming its key and the file the key is in; found at connect time, it was a
 * bare ENOENT from deep in the connection code.
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type { ResolvedConfig } from './schema.js';
import type { ConfigProblem } from './validate.js';

const TLS_FILE_KEYS = { ca: 'the CA that signed the Redis server\'s certificate', cert: 'the client certificate', key: 'the key of the client certificate' } as const;

const REASONS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'a directory, not a file' };

/** One problem per TLS file that cannot be read (relative paths are from `cwd`). */
export function tlsFileProblems(tls: ResolvedConfig['redis']['tls'] | undefined, cwd: string): ConfigProblem[] {
  if (!tls) return [];
  const problems: ConfigProblem[] = [];
  for (const [name, what] of Object.entries(TLS_FILE_KEYS) as Array<[keyof typeof TLS_FILE_KEYS, string]>) {
    const path = tls[name];
    if (typeof path !== 'string') continue;
    const full = resolve(cwd, path);
    try {
      accessSync(full, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      const keyPath = `redis.tls.${name}`;
      problems.push({
        keyPath,
        text: `${keyPath}: cannot read "${full}" (${REASONS[code] ?? code}): set it to the PEM file of ${what}`,
      });
    }
  }
  return problems;
}
