import type { ApprovalRecordView } from '../../approvals/approval-view.ts';
import { ApprovalQueue } from './approval-queue.ts';
import { shortId, voteOutcome } from './approval-text.ts';
import { ApprovalsSocketClient, ServerRefusal, type ConnectionState, type HistoryMessage, type PageMessage, type RecordMessage, type VoteResultMessage } from './approvals-socket-client.ts';
import type { ApproverCredential } from './approver-credential.ts';
import { renderScreen, type ConsoleView } from './console-screen.ts';
import { printableLine } from './terminal-text.ts';

export interface InteractiveConsoleOptions {
  readonly url: string;
  readonly credential: ApproverCredential;
  readonly input: NodeJS.ReadStream;
  readonly output: NodeJS.WriteStream;
  readonly errors: { write(text: string): unknown };
  readonly color: boolean;
}

// Keys arrive as raw bytes: one escape sequence, a lone Esc, or one character at a time.
const KEY = /\x1b\[[0-9;]*[A-Za-z~]|\x1bO[A-Za-z]|\x1b|[\s\S]/gu;
const UP = new Set(['\x1b[A', '\x1bOA', 'k']);
const DOWN = new Set(['\x1b[B', '\x1bOB', 'j']);
const MAX_REASON = 2000;
const HISTORY_LIMIT = 50;

/**
 * `portcullis approvals` on a terminal: a live full-screen queue (alternate screen, raw keys)
 * over one resuming WebSocket. Returns the exit code: 0 on quit, 1 when the PDP refused the
 * credential.
 */
export function runInteractiveConsole(options: InteractiveConsoleOptions): Promise<number> {
  const { input, output } = options;
  const queue = new ApprovalQueue();
  let connection: ConnectionState = { kind: 'connecting' };
  let principal: ConsoleView['principal'];
  let mode: ConsoleView['mode'] = 'queue';
  let history: ConsoleView['history'];
  let prompt: ConsoleView['prompt'];
  let status: ConsoleView['status'];
  let selectedId: string | undefined;
  let selectedIndex = 0;
  let pending: ApprovalRecordView[] = [];
  let escaped = false;
  /** The queue's next page while the server has more; fetched as the selection nears the end. */
  let nextPage: string | undefined;
  let loadingPage = false;
  /** Whole actions fetched for records a list shortened (by id). */
  const full = new Map<string, ApprovalRecordView>();

  return new Promise<number>((resolve) => {
    let finished = false;

    const render = (): void => {
      if (finished) return;
      const width = output.columns || 100;
      const height = output.rows || 30;
      const view: ConsoleView = { url: options.url, connection, principal, mode, pending, selected: selectedIndex, history, prompt, status, escaped, more: nextPage !== undefined, now: Date.now() };
      const lines = renderScreen(view, width, height, options.color);
      output.write(lines.map((line, row) => `\x1b[${row + 1};1H${line}\x1b[K`).join(''));
    };

    /** Keeps the same approval selected as the queue changes, or the same place if it left. */
    const refreshQueue = (): void => {
      pending = queue.pending().map((record) => {
        const whole = full.get(record.id);
        if (whole === undefined) return record;
        const { action_truncated: _cut, ...rest } = record;
        return { ...rest, action: whole.action, ...(whole.action_display === undefined ? {} : { action_display: whole.action_display }) };
      });
      const index = selectedId === undefined ? -1 : pending.findIndex((record) => record.id === selectedId);
      selectedIndex = index >= 0 ? index : Math.min(selectedIndex, Math.max(0, pending.length - 1));
      selectedId = pending[selectedIndex]?.id;
      if (prompt !== undefined && queue.get(prompt.approval.id) === undefined) {
        status = { text: `${shortId(prompt.approval)} was resolved before your vote was sent`, tone: 'info' };
        prompt = undefined;
      }
      render();
      void loadMoreIfNeeded();
    };

    /** The next page of the queue, when the selection is near the end of what is loaded. */
    const loadMoreIfNeeded = async (): Promise<void> => {
      if (nextPage === undefined || loadingPage || selectedIndex < pending.length - 5) return;
      loadingPage = true;
      try {
        const page = await client.request<PageMessage>({ type: 'page', page: nextPage });
        nextPage = page.next_page;
        for (const record of page.pending) queue.apply(record);
      } catch (error) {
        status = { text: `could not load more of the queue: ${(error as Error).message}`, tone: 'error' };
      } finally {
        loadingPage = false;
      }
      refreshQueue();
    };

    const loadFull = async (approval: ApprovalRecordView): Promise<void> => {
      status = { text: `loading the whole command of ${shortId(approval)}…`, tone: 'info' };
      render();
      try {
        const answer = await client.request<RecordMessage>({ type: 'get', approval_id: approval.id });
        full.set(approval.id, answer.approval);
        status = { text: `the whole command of ${shortId(approval)} is shown`, tone: 'ok' };
      } catch (error) {
        status = { text: `could not load it: ${(error as Error).message}`, tone: 'error' };
      }
      refreshQueue();
    };

    const client = new ApprovalsSocketClient({
      baseUrl: options.url,
      credential: () => options.credential.token(),
      subscribe: true,
      reconnect: true,
      handlers: {
        onState(state) {
          connection = state;
          if (state.kind === 'live') principal = state.welcome.principal;
          if (state.kind === 'closed' && state.fatal) finish(1, state.reason);
          else render();
        },
        onSnapshot(snapshot) {
          queue.reset(snapshot.pending);
          nextPage = snapshot.next_page;
          if (snapshot.resync) status = { text: 'reconnected: the queue was reloaded', tone: 'info' };
          refreshQueue();
        },
        onEvent(event) {
          queue.apply(event.approval);
          refreshQueue();
        },
        onResumed() {
          status = { text: 'reconnected: caught up with every change while away', tone: 'info' };
          render();
        },
      },
    });

    const vote = async (verdict: 'approve' | 'deny', approval: ApprovalRecordView, reason: string): Promise<void> => {
      status = { text: `sending ${verdict} for ${shortId(approval)}…`, tone: 'info' };
      render();
      try {
        const result = await client.request<VoteResultMessage>({ type: 'vote', approval_id: approval.id, verdict, reason });
        status = result.ok && result.approval
          ? { text: voteOutcome(verdict, result.approval), tone: 'ok' }
          : { text: `refused (${result.code}): ${result.message}`, tone: 'error' };
      } catch (error) {
        status = { text: error instanceof ServerRefusal ? `refused (${error.code}): ${error.message}` : (error as Error).message, tone: 'error' };
      }
      render();
    };

    const showHistory = async (): Promise<void> => {
      mode = 'history';
      history = 'loading';
      render();
      try {
        history = (await client.request<HistoryMessage>({ type: 'history', limit: HISTORY_LIMIT })).resolved;
      } catch (error) {
        history = [];
        status = { text: `history: ${(error as Error).message}`, tone: 'error' };
      }
      render();
    };

    const onPromptKey = (key: string): void => {
      if (prompt === undefined) return;
      if (key === '\r' || key === '\n') {
        const { verdict, approval, text } = prompt;
        if (verdict === 'deny' && text.trim() === '') {
          status = { text: 'a deny needs a reason: type one, or Esc to cancel', tone: 'error' };
          return;
        }
        prompt = undefined;
        void vote(verdict, approval, text.trim());
      } else if (key === '\x1b' || key === '\x03') {
        prompt = undefined;
        status = { text: 'cancelled', tone: 'info' };
      } else if (key === '\x7f' || key === '\b') {
        prompt = { ...prompt, text: [...prompt.text].slice(0, -1).join('') };
      } else if (key === '\x15') {
        prompt = { ...prompt, text: '' };
      } else if (key.length > 0 && !key.startsWith('\x1b') && key >= ' ' && prompt.text.length < MAX_REASON) {
        prompt = { ...prompt, text: prompt.text + key };
      }
    };

    const onKey = (key: string): void => {
      if (prompt !== undefined) return onPromptKey(key);
      if (key === 'q' || key === '\x03') return finish(0);
      if (mode === 'history') {
        if (key === 'h' || key === '\x1b') mode = 'queue';
        return;
      }
      if (UP.has(key)) selectedIndex = Math.max(0, selectedIndex - 1);
      else if (DOWN.has(key)) selectedIndex = Math.min(Math.max(0, pending.length - 1), selectedIndex + 1);
      else if (key === 'h') void showHistory();
      else if (key === 'x') escaped = !escaped;
      else if (key === 'f') {
        const approval = pending[selectedIndex];
        if (approval?.action_truncated !== undefined) void loadFull(approval);
      } else if (key === 'a' || key === 'd') {
        const approval = pending[selectedIndex];
        if (approval === undefined) status = { text: 'nothing selected', tone: 'info' };
        else if (key === 'a' && approval.action_truncated !== undefined) {
          // Nobody approves a command they were shown only the beginning of.
          status = { text: 'only the beginning of this command is shown: press f to load all of it before approving', tone: 'error' };
        } else {
          prompt = { verdict: key === 'a' ? 'approve' : 'deny', approval, text: '' };
          status = undefined;
        }
      }
      selectedId = pending[selectedIndex]?.id;
      if (DOWN.has(key)) void loadMoreIfNeeded();
    };

    const onData = (chunk: string): void => {
      for (const [key] of chunk.matchAll(KEY)) {
        onKey(key);
        if (finished) return;
      }
      render();
    };

    const ticker = setInterval(render, 1000);
    const onSignal = (): void => finish(0);

    function finish(code: number, message?: string): void {
      if (finished) return;
      finished = true;
      clearInterval(ticker);
      input.off('data', onData);
      output.off('resize', render);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
      if (input.isTTY) input.setRawMode(false);
      input.pause();
      output.write('\x1b[0m\x1b[?25h\x1b[?1049l');
      if (message !== undefined) options.errors.write(`portcullis approvals: ${printableLine(message)}\n`);
      void client.close().then(() => resolve(code));
    }

    output.write('\x1b[?1049h\x1b[?25l\x1b[2J');
    if (input.isTTY) input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
    output.on('resize', render);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    render();
    client.connect().catch(() => {
      // A fatal refusal is reported through onState; transient failures keep reconnecting.
    });
  });
}
