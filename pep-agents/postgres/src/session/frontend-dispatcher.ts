import { protocolViolation } from '../errors/pg-error.ts';
import { bindPortalName, FRONTEND } from '../protocol/frontend-messages.ts';
import type { FramedMessage } from '../protocol/message-reader.ts';
import type { ExtendedProtocolHandler } from './extended-protocol-handler.ts';
import type { SessionIo } from './session-io.ts';
import type { SimpleQueryHandler } from './simple-query-handler.ts';

/** Client → server: routes each message, in order, to the part of the protocol it belongs to. */
export class FrontendDispatcher {
  constructor(
    private readonly io: SessionIo,
    private readonly simple: SimpleQueryHandler,
    private readonly extended: ExtendedProtocolHandler,
    private readonly terminate: () => void,
  ) {}

  handle(message: FramedMessage): void | Promise<void> {
    if (message.type === FRONTEND.terminate) return this.terminate();
    // The server ignores everything but Sync after an error in the extended protocol, and so does
    // the PEP after a refusal: nothing is decided or forwarded that would not run.
    if (message.type !== FRONTEND.sync && (this.extended.discardingUntilSync || this.io.pending.skipping)) return;
    switch (message.type) {
      case FRONTEND.query:
        return this.simple.query(message);
      case FRONTEND.functionCall:
        return this.simple.functionCall();
      case FRONTEND.parse:
        return this.extended.parse(message);
      case FRONTEND.bind:
        // FETCH can read a named portal as it reads a cursor: what the session knew by that name is void.
        this.io.maskers.portalBound?.(bindPortalName(message.body));
        return this.extended.bind(message);
      case FRONTEND.describe:
        return this.extended.describe(message);
      case FRONTEND.execute:
        return this.extended.execute(message);
      case FRONTEND.close:
        return this.extended.close(message);
      case FRONTEND.sync:
        return this.extended.sync(message);
      case FRONTEND.flush:
        return this.extended.flush(message);
      case FRONTEND.copyData:
      case FRONTEND.copyDone:
      case FRONTEND.copyFail:
        // Rows of a COPY FROM STDIN the decision on its statement allowed.
        this.io.upstream.send(message.raw);
        return;
      default:
        throw protocolViolation(`invalid frontend message type ${message.type}`);
    }
  }
}
