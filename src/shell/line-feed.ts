/**
 * Input that is not a terminal (a script piped in) reaches the REPL one line at a time, each
 * once the previous one is done. Node's REPL does not wait for an awaited line before taking
 * the next one when it is not reading a terminal, so without this `const r = await call()`
 * followed by `r` would read `r` too early, and the end of input would close the shell under
 * a call still waiting.
 */
import { once } from 'node:events';
import type { REPLServer } from 'node:repl';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Evaluator } from './evaluator.js';

export interface LineFeed {
  /** Resolves once every line was fed and done, and the REPL's input ended. */
  readonly finished: Promise<void>;
  /** Stops reading (the shell was left with `.exit`). */
  stop(): void;
}

/** Reads lines from `source` and writes them to `replInput`, the REPL's input, one by one. */
export function feedLines(source: Readable, replInput: Writable, server: REPLServer, evaluator: Evaluator): LineFeed {
  const reader = createInterface({ input: source, crlfDelay: Infinity, terminal: false });
  let stopped = false;
  let stopFeeding: () => void = () => undefined;
  const stoppedSignal = new Promise<void>((resolve) => (stopFeeding = resolve));

  // `.exit` closes the REPL from inside a line: stop before feeding the next one.
  server.once('exit', () => stop());

  const finished = (async () => {
    try {
      for await (const line of reader) {
        if (stopped) break;
        const taken = once(server, 'line');
        replInput.write(`${line}\n`);
        await Promise.race([taken, stoppedSignal]);
        await evaluator.idle();
        // `.exit` closes the REPL on the next tick: let it, so no line runs after it.
        await new Promise((resolve) => setImmediate(resolve));
        if (stopped) break;
      }
    } finally {
      reader.close();
      replInput.end();
    }
  })();

  function stop(): void {
    if (stopped) return;
    stopped = true;
    stopFeeding();
    reader.close();
  }
  return { finished, stop };
}
