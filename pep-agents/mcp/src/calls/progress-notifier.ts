import type { ProgressToken } from './mcp-command.ts';

export interface ProgressNotification {
  readonly jsonrpc: '2.0';
  readonly method: 'notifications/progress';
  readonly params: { readonly progressToken: ProgressToken; readonly progress: number; readonly message: string };
}

/** Sends one notification to the client on the call's connection (or stream); may fail, never throws at the caller. */
export type ProgressSender = (notification: ProgressNotification) => void | Promise<void>;

/** The `notify` an `AuthorizeContext` takes, and the end of its keep-alive once the call is no longer held. */
export interface ProgressNotifier {
  (message: string, detail?: string): void;
  /** The hold ended (decided, refused, cancelled): no more notifications. */
  stop(): void;
}

export interface ProgressNotifierOptions {
  /**
   * While a call is held, the last notice is sent again this often, so a client that resets its
   * request timeout on progress (the TypeScript SDK's `resetTimeoutOnProgress`) keeps waiting for
   * as long as the approval may take, not only until its own timeout (60 s by default). Only for
   * a caller that calls `stop()` once the hold ends (decided, refused, cancelled): a notifier left
   * running would tell the client of progress on a request it already has the answer to.
   * Absent: only the notices themselves are sent.
   */
  readonly keepAliveMs?: number;
  /** Stops the notifier when the call is cancelled or its client went away. */
  readonly signal?: AbortSignal;
}

/** A keep-alive well inside the TypeScript SDK's default request timeout (60 s). */
export const DEFAULT_KEEP_ALIVE_MS = 20_000;

/**
 * Turns the notices of a call held for approval (the approval to wait for, each vote) into
 * `notifications/progress` for the client's progress token, `progress` rising by one each time
 * and the notice as `message`. A call whose client gave no token gets nothing: MCP has no other
 * way to speak to a client about a request in flight, and such a client gets the approval named
 * in the tool error it is answered with once the hold runs out.
 */
export function progressNotifier(send: ProgressSender, progressToken: ProgressToken | undefined, options: ProgressNotifierOptions = {}): ProgressNotifier {
  let progress = 0;
  let lastMessage: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const emit = (message: string): void => {
    if (stopped || progressToken === undefined) return;
    progress += 1;
    try {
      // A client that went away must not decide whether the call runs: a failed send is dropped.
      Promise.resolve(send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken, progress, message } })).catch(() => undefined);
    } catch {
      // as above
    }
  };
  const stop = (): void => {
    stopped = true;
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();

  const notify = (message: string, detail?: string): void => {
    if (stopped || progressToken === undefined) return;
    lastMessage = detail ? `${message}; ${detail}` : message;
    emit(lastMessage);
    if (timer === undefined && options.keepAliveMs !== undefined) {
      timer = setInterval(() => lastMessage !== undefined && emit(lastMessage), options.keepAliveMs);
      // A held call must not keep the process alive on its own.
      timer.unref();
    }
  };
  return Object.assign(notify, { stop });
}
