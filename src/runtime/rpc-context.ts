/**
 * The {@link RpcContext} a handler gets: the call's deadline and a signal that aborts when the
 * invoker says the call is withdrawn or past its deadline (an `abort` message, or the inline
 * executor's own signal). The AbortController is made only when the handler reads `signal`:
 * most handlers never do, and the RPC path pays for every object per call.
 */
import type { RpcContext } from '../api/define.js';

export class RpcCallContext implements RpcContext {
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  constructor(
    readonly callId: string,
    readonly deadline: number | undefined,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Why the call was aborted, once it was. */
  get abortReason(): Error | undefined {
    return this.reason;
  }

  remainingMs(): number {
    return this.deadline === undefined ? Infinity : Math.max(0, this.deadline - Date.now());
  }

  /** Aborts the handler's signal; the first reason stays. */
  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
