/**
 * The invoker's fire path: checks that the event's API is on the bus ({@link FireTargets}),
 * writes the event through the event transport and settles the fire once, with its ids or its
 * error, or with a timeout when the write takes longer than the fire's deadline. A burst of
 * fires is a hot path: one promise per fire, and the transport tells the fire's
 * {@link FireInFlight} how its write ended.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { redactUrl } from '../core/redact-url.js';
import { FireTimeoutError } from '../errors.js';
import type { EventMessage, EventTransport, SendReceiver } from '../transport/types.js';
import { Deadlines } from '../util/deadlines.js';
import { FireTargets, type FireTargetSource } from './fire-targets.js';
import type { RuntimeObserver } from './observer.js';
import type { ClientCommand, FiredEvent } from './protocol.js';

export type FireCommand = Omit<Extract<ClientCommand, { type: 'fire' }>, 'requestId'>;

export interface EventFirerOptions {
  config: ResolvedConfig;
  transport: EventTransport;
  /** What {@link FireTargets} asks: the schemas on the bus. */
  targets: FireTargetSource;
  logger: Logger;
  observer?: RuntimeObserver | undefined;
}

export class EventFirer {
  private readonly targets: FireTargets;
  private readonly deadlines = new Deadlines<FireInFlight>((fire) => fire.reject(this.timeout(fire)));

  constructor(private readonly options: EventFirerOptions) {
    this.targets = new FireTargets(options.targets, options.config, options.logger);
  }

  /** Resolves with the event's message id and stream id; rejects with the error itself (not an outcome). */
  fire(command: FireCommand): Promise<FiredEvent> {
    const writing = this.targets.published(command.api) ? this.write(command) : this.targets.checkUnpublished(command.api, command.event, command.timeoutMs).then(() => this.write(command));
    const { observer } = this.options;
    if (!observer) return writing;
    return writing.then(
      (fired) => {
        observer.eventFired(command.api, command.event, undefined);
        return fired;
      },
      (error: unknown) => {
        observer.eventFired(command.api, command.event, error as Error);
        throw error;
      },
    );
  }

  /** Stops the deadline timer; fires still waiting settle when their writes end. */
  stop(): void {
    this.deadlines.stop();
  }

  private write(command: FireCommand): Promise<FiredEvent> {
    return new Promise((resolve, reject) => {
      const fire = new FireInFlight(randomUUID(), command.api, command.event, command.timeoutMs, resolve, reject, this.deadlines);
      this.deadlines.add(fire);
      const message: EventMessage = { id: fire.id, api: command.api, event: command.event, version: 1, kwargs: command.kwargs };
      if (command.trace !== undefined) message.trace = command.trace;
      const { transport } = this.options;
      if (transport.sendTo) transport.sendTo(message, fire);
      else transport.send(message).then(({ streamId }) => fire.sent(streamId), (error: unknown) => fire.failed(error));
    });
  }

  private timeout(command: Pick<FireCommand, 'api' | 'event' | 'timeoutMs'>): FireTimeoutError {
    return new FireTimeoutError(
      `firing ${command.api}.${command.event} took longer than ${command.timeoutMs} ms: is Redis reachable at ${redactUrl(this.options.config.redis.url)}?`,
      command.api,
      command.event,
    );
  }
}

/**
 * A fire waiting for its write; settled once, by the transport or by its deadline. It
 * keeps what a timeout error names, not the command: in a burst every fire in flight survives
 * garbage collections until its reply, and each object it holds is copied by each of them.
 */
class FireInFlight implements SendReceiver {
  readonly expiresAt: number;

  constructor(
    readonly id: string,
    readonly api: string,
    readonly event: string,
    readonly timeoutMs: number,
    private readonly resolve: (fired: FiredEvent) => void,
    readonly reject: (error: unknown) => void,
    private readonly deadlines: Deadlines<FireInFlight>,
  ) {
    this.expiresAt = Date.now() + timeoutMs;
  }

  sent(streamId: string): void {
    // No longer waiting: its deadline has already failed it with a timeout.
    if (this.deadlines.delete(this)) this.resolve({ id: this.id, streamId });
  }

  failed(error: unknown): void {
    if (this.deadlines.delete(this)) this.reject(error);
  }
}
