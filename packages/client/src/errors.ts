import type { ServerFrame } from '@parley/contracts';

export type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

/** The server refused or gave up on the connection (a code reconnecting cannot fix), or `close()` was called. */
export class ClientClosedError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`connection closed (${code}${reason ? `: ${reason}` : ''})`);
    this.name = 'ClientClosedError';
  }
}

/** The server answered a request with an `error` frame. */
export class ServerError extends Error {
  constructor(readonly frame: ErrorFrame) {
    super(frame.message);
    this.name = 'ServerError';
  }
  get code(): string {
    return this.frame.code;
  }
}

/** A request could not be sent or queued: the client is not connected (and not reconnecting), or its offline queue is full. */
export class ClientOfflineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientOfflineError';
  }
}

/** No answer within `requestTimeoutMs` (time spent queued while reconnecting included). */
export class RequestTimeoutError extends Error {
  constructor(
    readonly ref: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer to ${ref} within ${timeoutMs} ms; check the connection and try again`);
    this.name = 'RequestTimeoutError';
  }
}

/**
 * chat() of a message that started no run: the conversation waits for or is held by a person of the
 * support staff, and the message was saved and delivered to them (`chat.delivered`). Not a failure:
 * show the message as sent; the person's answer arrives as `human.message`.
 */
export class DeliveredToPersonError extends Error {
  constructor(readonly frame: { id: string; conversationId: string; messageId: string }) {
    super('delivered to a person of the support staff; no bot run');
    this.name = 'DeliveredToPersonError';
  }
}
