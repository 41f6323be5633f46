/**
 * Hands the commands of a thread's bus (a worker's, or `--inline`'s modules') to the invoker and
 * their answers back. A call sent with an AbortSignal (`withdrawable`) gets a signal of its own
 * here, which the thread's later `cancel` for the same request id aborts: the thread's signal
 * cannot cross to the invoker, so the withdrawal travels as a command like everything else.
 */
import { serializeError } from '../errors.js';
import type { ClientCommand, Outcome } from './protocol.js';

export type CommandHandler = (command: ClientCommand, signal?: AbortSignal) => Promise<Outcome>;

export class CommandForwarder {
  private readonly withdrawable = new Map<number, AbortController>();

  constructor(
    private readonly handle: CommandHandler,
    private readonly reply: (requestId: number, outcome: Outcome) => void,
  ) {}

  forward(command: ClientCommand): void {
    if (command.type === 'cancel') {
      this.withdrawable.get(command.requestId)?.abort();
      return;
    }
    let signal: AbortSignal | undefined;
    if (command.type === 'call' && command.withdrawable) {
      const controller = new AbortController();
      this.withdrawable.set(command.requestId, controller);
      signal = controller.signal;
    }
    const settle = (outcome: Outcome) => {
      if (signal) this.withdrawable.delete(command.requestId);
      this.reply(command.requestId, outcome);
    };
    this.handle(command, signal).then(settle, (error: unknown) => settle({ ok: false, error: serializeError(error) }));
  }

  /** The thread is gone: nobody reads the answers of the calls it can withdraw, so they are withdrawn. */
  withdrawAll(): void {
    for (const controller of this.withdrawable.values()) controller.abort();
    this.withdrawable.clear();
  }
}
