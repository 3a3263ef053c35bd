import { parseArgs } from './command-args.ts';
import type { ApprovalRecordView } from '../approvals/approval-view.ts';
import { historyTable, eventLine, pendingTable } from './approvals/approval-listing.ts';
import { voteOutcome } from './approvals/approval-text.ts';
import {
  ApprovalsSocketClient, ConnectionError, ServerRefusal,
  type HistoryMessage, type PageMessage,
  type SnapshotMessage, type SocketClientHandlers, type VoteResultMessage,
} from './approvals/approvals-socket-client.ts';
import { approverCredential, CredentialChoiceError, type ApproverCredential } from './approvals/approver-credential.ts';
import { runInteractiveConsole } from './approvals/interactive-console.ts';
import { printableLine } from './approvals/terminal-text.ts';
import type { CommandOutput } from './token-command.ts';

const DEFAULT_URL = 'http://127.0.0.1:8181';

export const APPROVALS_USAGE = `usage:
  portcullis approvals [options]                 the live console (needs a terminal):
                                                 ↑/↓ select, a approve, d deny (reason required), h history, q quit
  portcullis approvals list [--json]             the pending queue, soonest expiry first
  portcullis approvals approve ID [--reason TEXT] [--json]
  portcullis approvals deny ID --reason TEXT [--json]
  portcullis approvals history [--limit N] [--json]
                                                 recently resolved approvals, newest first
  portcullis approvals watch [--json]            one line per queue event (--json: one JSON object per
                                                 line), resuming after the last event across reconnects
options:
  --url URL           the PDP (default ${DEFAULT_URL})
  --token-file FILE   the approver's bearer token (re-read at every reconnect); or set PORTCULLIS_TOKEN
  --as SUBJECT        dev issuer only: mint a token for SUBJECT with role approver
ID is a full approval id, or a prefix of a pending one (list shows 8 characters).
exit codes: 0 done, 1 refused by the PDP or failed, 2 bad arguments`;
const APPROVAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ID_PREFIX = /^[0-9a-f][0-9a-f-]{3,35}$/;

interface Flags {
  url?: string;
  'token-file'?: string;
  as?: string;
  json?: boolean;
  reason?: string;
  limit?: string;
  help?: boolean;
}

interface Context {
  readonly url: string;
  readonly credential: ApproverCredential;
  readonly flags: Flags;
  readonly output: CommandOutput;
}

class UsageError extends Error {}

/** The step could not be done (exit 1), for a reason found on this side. */
class StepFailure extends Error {}

/**
 * `portcullis approvals …`: the approver's terminal. Without a sub-command, the live console;
 * with one, a single step for scripts. Everything goes over the PDP's approvals WebSocket.
 */
export async function runApprovalsCommand(argv: string[], stateDir: string, output: CommandOutput = process, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    let parsed: { values: Flags; positionals: string[] };
    try {
      parsed = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: true,
        options: {
          url: { type: 'string' },
          'token-file': { type: 'string' },
          as: { type: 'string' },
          json: { type: 'boolean' },
          reason: { type: 'string' },
          limit: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      }) as { values: Flags; positionals: string[] };
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { values: flags, positionals } = parsed;
    if (flags.help) {
      output.stdout.write(`${APPROVALS_USAGE}\n`);
      return 0;
    }
    const [sub, ...operands] = positionals;
    checkFlags(sub, operands, flags);
    const url = baseUrl(flags.url ?? DEFAULT_URL);
    const credential = approverCredential({ tokenFile: flags['token-file'], as: flags.as, envToken: env.PORTCULLIS_TOKEN, stateDir, consoleAudience: env.PORTCULLIS_CONSOLE_AUDIENCE });
    const context: Context = { url, credential, flags, output };
    switch (sub) {
      case undefined:
        return await interactive(context);
      case 'list':
        return await list(context);
      case 'approve':
      case 'deny':
        return await vote(context, sub, operands[0]!);
      case 'history':
        return await showHistory(context);
      case 'watch':
        return await watch(context);
      default:
        throw new UsageError(`unknown command "${sub}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof CredentialChoiceError) {
      output.stderr.write(`portcullis approvals: ${error.message}\n${APPROVALS_USAGE}\n`);
      return 2;
    }
    if (error instanceof ServerRefusal) {
      // What the PDP says is shown, never interpreted by the terminal.
      output.stderr.write(`portcullis approvals: refused (${printableLine(error.code)}): ${printableLine(error.message)}\n`);
      return 1;
    }
    if (error instanceof ConnectionError || error instanceof StepFailure) {
      output.stderr.write(`portcullis approvals: ${printableLine(error.message)}\n`);
      return 1;
    }
    throw error;
  }
}

function checkFlags(sub: string | undefined, operands: string[], flags: Flags): void {
  const allowed: Record<string, (keyof Flags)[]> = {
    '': [],
    list: ['json'],
    approve: ['json', 'reason'],
    deny: ['json', 'reason'],
    history: ['json', 'limit'],
    watch: ['json'],
  };
  const own = allowed[sub ?? ''];
  if (own === undefined) throw new UsageError(`unknown command "${sub}"`);
  for (const flag of ['json', 'reason', 'limit'] as const) {
    if (flags[flag] !== undefined && !own.includes(flag)) throw new UsageError(`--${flag} does not apply to ${sub === undefined ? 'the console' : sub}`);
  }
  const wantsId = sub === 'approve' || sub === 'deny';
  if (wantsId && operands.length !== 1) throw new UsageError(`${sub} needs exactly one approval id`);
  if (!wantsId && operands.length > 0) throw new UsageError(`unexpected argument "${operands[0]}"`);
  if (wantsId && !APPROVAL_ID.test(operands[0]!) && !ID_PREFIX.test(operands[0]!)) {
    throw new UsageError(`"${operands[0]}" is not an approval id (a UUID, or a prefix of at least 4 characters)`);
  }
  // The PDP refuses a deny without a reason too; saying so here saves a round trip and a guess.
  if (sub === 'deny' && (flags.reason ?? '').trim() === '') throw new UsageError('deny needs --reason: say why the command must not run');
  if (flags.limit !== undefined && !/^\d+$/.test(flags.limit)) throw new UsageError('--limit must be a number from 1 to 500');
  if (flags.limit !== undefined && (Number(flags.limit) < 1 || Number(flags.limit) > 500)) throw new UsageError('--limit must be a number from 1 to 500');
}

function baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url must be an http:// or https:// URL (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http:// or https:// URL (got "${text}")`);
  return url.origin;
}

async function interactive(context: Context): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError('the console needs a terminal; in scripts use list, approve, deny, history or watch');
  }
  return runInteractiveConsole({
    url: context.url,
    credential: context.credential,
    input: process.stdin,
    output: process.stdout,
    errors: context.output.stderr,
    color: process.env.NO_COLOR === undefined,
  });
}

/** One connection for one step: resolves once welcomed; `snapshot` (when subscribing) fails if the connection ends first. */
async function connectOnce(context: Context, subscribe: boolean): Promise<{ client: ApprovalsSocketClient; snapshot: Promise<SnapshotMessage> }> {
  let deliver: (snapshot: SnapshotMessage) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const snapshot = new Promise<SnapshotMessage>((resolve, reject) => {
    deliver = resolve;
    fail = reject;
  });
  snapshot.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  const client = new ApprovalsSocketClient({
    baseUrl: context.url,
    credential: () => context.credential.token(),
    subscribe,
    reconnect: false,
    handlers: {
      onSnapshot: (message) => deliver(message),
      onState: (state) => state.kind === 'closed' && fail(new ConnectionError(state.reason, state.fatal)),
    },
  });
  await client.connect();
  return { client, snapshot };
}

async function list(context: Context): Promise<number> {
  const { client, snapshot } = await connectOnce(context, true);
  try {
    const { cursor, pending } = await allPending(client, await snapshot);
    context.output.stdout.write(context.flags.json ? `${JSON.stringify({ cursor, pending }, null, 2)}\n` : pendingTable(pending, Date.now()));
    return 0;
  } finally {
    await client.close();
  }
}

async function vote(context: Context, verdict: 'approve' | 'deny', id: string): Promise<number> {
  const { client, snapshot } = await connectOnce(context, !APPROVAL_ID.test(id));
  try {
    const approvalId = APPROVAL_ID.test(id) ? id : uniquePrefixMatch(id, (await allPending(client, await snapshot)).pending);
    const result = await client.request<VoteResultMessage>({ type: 'vote', approval_id: approvalId, verdict, reason: (context.flags.reason ?? '').trim() });
    if (!result.ok || result.approval === undefined) throw new ServerRefusal(result.code ?? 'refused', result.message ?? 'the PDP refused the vote');
    context.output.stdout.write(context.flags.json ? `${JSON.stringify(result.approval, null, 2)}\n` : `${voteOutcome(verdict, result.approval)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/** The whole queue: the snapshot's first page and every page after it. */
async function allPending(client: ApprovalsSocketClient, snapshot: SnapshotMessage): Promise<{ cursor: string; pending: ApprovalRecordView[] }> {
  const pending = [...snapshot.pending];
  for (let next = snapshot.next_page; next !== undefined; ) {
    const page = await client.request<PageMessage>({ type: 'page', page: next });
    pending.push(...page.pending);
    next = page.next_page;
  }
  return { cursor: snapshot.cursor, pending };
}

function uniquePrefixMatch(prefix: string, pending: readonly ApprovalRecordView[]): string {
  const matches = pending.filter((record) => record.id.startsWith(prefix));
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) throw new StepFailure(`no pending approval starts with ${prefix}`);
  throw new UsageError(`${prefix} matches ${matches.length} pending approvals; give more of the id`);
}

async function showHistory(context: Context): Promise<number> {
  const { client } = await connectOnce(context, false);
  try {
    const answer = await client.request<HistoryMessage>({ type: 'history', limit: Number(context.flags.limit ?? 50) });
    context.output.stdout.write(context.flags.json ? `${JSON.stringify({ resolved: answer.resolved }, null, 2)}\n` : historyTable(answer.resolved, Date.now()));
    return 0;
  } finally {
    await client.close();
  }
}

/** Streams queue events until interrupted; a lost connection is resumed from the last event id. */
async function watch(context: Context): Promise<number> {
  const { output, flags } = context;
  const line = (value: unknown): void => {
    output.stdout.write(`${JSON.stringify(value)}\n`);
  };
  let connectedBefore = false;
  return new Promise<number>((resolve) => {
    const handlers: SocketClientHandlers = {
      onSnapshot(snapshot) {
        if (flags.json) line(snapshot);
        else output.stdout.write(`${snapshot.resync ? 'resynchronised: the event log no longer reached back; the queue now:\n' : ''}${pendingTable(snapshot.pending, Date.now())}`);
      },
      onEvent(event) {
        if (flags.json) line(event);
        else output.stdout.write(eventLine(event));
      },
      onResumed(cursor) {
        output.stderr.write(`portcullis approvals: resumed after event ${cursor}\n`);
      },
      onState(state) {
        if (state.kind === 'live') {
          if (connectedBefore) output.stderr.write(`portcullis approvals: reconnected as ${state.welcome.principal.sub}\n`);
          connectedBefore = true;
        } else if (state.kind === 'reconnecting') {
          output.stderr.write(`portcullis approvals: connection lost (${printableLine(state.reason)}); reconnecting in ${(state.delayMs / 1000).toFixed(1)} s (attempt ${state.attempt})\n`);
        } else if (state.kind === 'closed' && state.fatal) {
          output.stderr.write(`portcullis approvals: ${printableLine(state.reason)}\n`);
          stop(1);
        }
      },
    };
    const client = new ApprovalsSocketClient({ baseUrl: context.url, credential: () => context.credential.token(), subscribe: true, reconnect: true, handlers });
    const onSignal = (): void => stop(0);
    function stop(code: number): void {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void client.close().then(() => resolve(code));
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    client.connect().catch(() => {
      // A fatal refusal ends the watch through onState; anything else is retried.
    });
  });
}
