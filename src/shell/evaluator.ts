/**
 * What the shell adds to Node's evaluation of a line, keeping Node's own for everything else
 * (top-level `await`, multi-line input, syntax errors):
 *
 * - a line whose value is a promise is awaited, so `auth.check_password({...})` prints the
 *   result. It is awaited by Node's own `await` path (evaluating `await <the promise>`), which
 *   pauses input while waiting and lets Ctrl-C stop the wait (`breakEvalOnSigint`);
 * - errors print as {@link formatError} shows them (remote stack included) and the shell goes
 *   on; a wait stopped by Ctrl-C says so. Node reports every error of a line through the
 *   REPL's domain, so the shell takes over the domain's error listener (keeping Node's for
 *   syntax errors, which it shows with a caret);
 * - it knows when a line is done, so input that is not a terminal is fed one line at a time.
 *
 * Node's completer also evaluates code (the `auth` of `auth.ch<Tab>`); only evaluations of
 * entered lines get this treatment, told apart by the `line` event that precedes them.
 */
import type { EventEmitter } from 'node:events';
import type { REPLServer } from 'node:repl';
import type { Context } from 'node:vm';
import { isError } from './format.js';

type EvalCallback = (error: Error | null, result?: unknown) => void;
type Eval = (code: string, context: Context, file: string, callback: EvalCallback) => void;

/** The name the awaited promise has in the scope, for the one line that awaits it. */
const AWAITED = '__lightbus_awaited__';

/** The parts of Node's REPLServer the shell relies on beyond its typed surface. */
interface ReplInternals {
  eval: Eval;
  _domain?: EventEmitter;
  lastError: unknown;
  lines?: { level: unknown[] };
}

export interface EvaluatorOptions {
  /** Prints an error of a line (the REPL's output); the shell continues. */
  printError(error: unknown): void;
  /** Prints that a wait was stopped by Ctrl-C. */
  printInterrupted(): void;
  /** Called for every error reported, syntax errors included. */
  onFailure?(): void;
  /** Called after every line is done (to refresh the API objects). */
  onLineDone?(): void;
}

export interface Evaluator {
  /** Whether a line (or a shell command) is being evaluated. */
  readonly busy: boolean;
  /** Resolves once nothing is being evaluated. */
  idle(): Promise<void>;
  /** Counts `work` (an async shell command) as an evaluation until it settles. */
  track(work: Promise<unknown>): Promise<void>;
}

export function installEvaluator(server: REPLServer, options: EvaluatorOptions): Evaluator {
  const repl = server as unknown as ReplInternals;
  const domain = repl._domain;
  if (!domain) throw new Error("lightbus shell: this Node.js REPL has no error domain; it needs Node.js 20's REPL or a compatible one");
  const nodeEval = repl.eval;
  let lineEntered = false;
  /** Ends the evaluation of the current line; at most one line runs at a time (Node pauses input meanwhile). */
  let endCurrentLine: (() => void) | undefined;
  let running = 0;
  let waiters: Array<() => void> = [];

  const begin = (): (() => void) => {
    running++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      running--;
      if (running > 0) return;
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    };
  };

  // Node's 'line' handler calls eval synchronously: flag the line before it, clear after it.
  server.prependListener('line', () => {
    lineEntered = true;
  });
  server.on('line', () => {
    lineEntered = false;
  });

  const [nodeErrorListener] = domain.listeners('error') as Array<(error: unknown) => void>;
  if (nodeErrorListener) domain.removeListener('error', nodeErrorListener);
  domain.on('error', (error: unknown) => {
    delete (server.context as Record<string, unknown>)[AWAITED]; // its await failed or was interrupted
    options.onFailure?.();
    if (isError(error) && error.name === 'SyntaxError' && nodeErrorListener) {
      nodeErrorListener.call(domain, error);
    } else {
      if ((error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') options.printInterrupted();
      else options.printError(error);
      repl.lastError = error;
      server.clearBufferedCommand();
      if (repl.lines) repl.lines.level = [];
      server.displayPrompt();
    }
    const end = endCurrentLine;
    endCurrentLine = undefined;
    if (end) {
      options.onLineDone?.();
      end();
    }
  });

  const shellEval: Eval = (code, context, file, callback) => {
    if (!lineEntered) return nodeEval(code, context, file, callback);
    lineEntered = false;
    const end = begin();
    endCurrentLine = end;
    const finish: EvalCallback = (...args) => {
      if (endCurrentLine === end) endCurrentLine = undefined;
      try {
        callback(...args); // an error here reaches the domain listener above, synchronously
      } finally {
        options.onLineDone?.();
        end();
      }
    };
    nodeEval(code, context, file, function (error, result) {
      if (!error && isThenable(result)) {
        Object.defineProperty(context, AWAITED, { value: result, configurable: true, enumerable: false });
        return nodeEval(`await ${AWAITED}\n`, context, file, (awaitError, awaited) => {
          delete (context as Record<string, unknown>)[AWAITED];
          return awaitError ? finish(awaitError) : finish(null, awaited);
        });
      }
      // Node prints a value only when eval called back with two arguments.
      return arguments.length >= 2 ? finish(error, result) : finish(error);
    });
  };
  repl.eval = shellEval;

  return {
    get busy() {
      return running > 0;
    },
    idle() {
      return running === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
    },
    async track(work) {
      const end = begin();
      try {
        await work;
      } finally {
        end();
      }
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
