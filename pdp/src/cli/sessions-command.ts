import { parseArgs } from './command-args.ts';
import { openAuditReader, type AuditSourceChoice } from '../audit/verification/readers/audit-reader-factory.ts';
import type { PdpConfig } from '../config/pdp-config.ts';
import { parseTtlSeconds } from '../identity/ttl.ts';
import { listSessions, sessionDetail, type SessionDetail, type SessionSummary } from '../sessions/session-catalog.ts';
import { asciicastText, readRecording } from '../sessions/session-recording.ts';
import { playRecording } from '../sessions/terminal-player.ts';

export const SESSIONS_USAGE = `usage:
  portcullis sessions list   [source] [--principal SUB] [--resource NAME] [--since 1h | --from ISO] [--to ISO] [--json]
  portcullis sessions show   ID [source] [--json]        a session's commands with their decisions and approvals
  portcullis sessions replay ID [source] [--speed N] [--idle-limit SECONDS] [--to-end] [--cast]
                             plays an interactive session's recording on this terminal: the exact bytes
                             the client was sent, at the recorded pace (--speed 4: four times as fast;
                             --to-end: at once); --cast writes the asciicast v2 file instead
source: --kafka HOST:PORT[,…] [--topic-prefix P] | --dir AUDIT_DIR   (default: the PDP's configuration)`;

const SOURCE_OPTIONS = {
  kafka: { type: 'string' },
  'topic-prefix': { type: 'string' },
  dir: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Where the command writes: the replay writes bytes, the rest text. */
export interface SessionsOutput {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(text: string): unknown };
}

/** `portcullis sessions …`: find sessions in the audit trail, show one, replay its recording. */
export async function runSessionsCommand(argv: string[], config: PdpConfig, output: SessionsOutput = process, signal?: AbortSignal): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'list':
        return await list(rest, config, output);
      case 'show':
        return await show(rest, config, output);
      case 'replay':
        return await replay(rest, config, output, signal);
      default:
        output.stderr.write(`${sub ? `portcullis sessions: unknown command "${sub}"\n` : ''}${SESSIONS_USAGE}\n`);
        return 2;
    }
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      output.stderr.write(`portcullis sessions: ${(error as Error).message}\n${SESSIONS_USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

async function list(argv: string[], config: PdpConfig, output: SessionsOutput): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...SOURCE_OPTIONS, principal: { type: 'string' }, resource: { type: 'string' }, since: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
    strict: true,
  });
  const from = values.since ? Date.now() - parseTtlSeconds(values.since) * 1000 : values.from ? time(values.from, '--from') : undefined;
  const to = values.to ? time(values.to, '--to') : undefined;
  const reader = openAuditReader(sourceOf(values), config);
  let sessions: SessionSummary[];
  try {
    sessions = await listSessions(reader, {
      ...(values.principal ? { principal: values.principal } : {}),
      ...(values.resource ? { resource: values.resource } : {}),
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    });
  } finally {
    await reader.close();
  }
  if (values.json) {
    output.stdout.write(`${JSON.stringify(sessions, null, 2)}\n`);
    return 0;
  }
  for (const session of sessions) output.stdout.write(`${summaryLine(session)}\n`);
  output.stderr.write(`${sessions.length} session(s) from ${reader.description}\n`);
  return 0;
}

async function show(argv: string[], config: PdpConfig, output: SessionsOutput): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: SOURCE_OPTIONS, allowPositionals: true, strict: true });
  const id = sessionId(positionals);
  const reader = openAuditReader(sourceOf(values), config);
  let detail: SessionDetail | undefined;
  try {
    detail = await sessionDetail(reader, id);
  } finally {
    await reader.close();
  }
  if (!detail) {
    output.stderr.write(`portcullis sessions: no session "${printable(id)}" in ${reader.description}\n`);
    return 1;
  }
  if (values.json) {
    output.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
    return 0;
  }
  output.stdout.write(`${summaryLine(detail)}\n`);
  for (const command of detail.commands_list) {
    const approval = command.approval ? `  approval ${command.approval.id} ${command.approval.status}${command.approval.approvers.length > 0 ? ` by ${command.approval.approvers.join(', ')}` : ''}` : '';
    const runs = command.runs.map((run) => `${run.status ?? 'ran'}${run.duration_ms === undefined ? '' : ` ${run.duration_ms} ms`}${run.masked_cells ? `, ${run.masked_cells} masked` : ''}`).join('; ');
    output.stdout.write(`  ${command.time}  ${(command.effect ?? 'ran').padEnd(17)} ${oneLine(command.text)}${approval}${runs ? `  → ${runs}` : ''}\n`);
    for (const reason of command.reasons) output.stdout.write(`      ${oneLine(reason)}\n`);
  }
  return 0;
}

async function replay(argv: string[], config: PdpConfig, output: SessionsOutput, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...SOURCE_OPTIONS, speed: { type: 'string' }, 'idle-limit': { type: 'string' }, 'to-end': { type: 'boolean' }, cast: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const id = sessionId(positionals);
  const speed = positive(values.speed ?? '1', '--speed');
  const idleLimit = values['idle-limit'] === undefined ? undefined : positive(values['idle-limit'], '--idle-limit');
  const reader = openAuditReader(sourceOf(values), config);
  const recording = await readRecording(reader, id).finally(() => reader.close());
  if (!recording) {
    output.stderr.write(`portcullis sessions: session "${printable(id)}" has no recording in ${reader.description}\n`);
    return 1;
  }
  const complete = recording.missing.length === 0 && recording.final;
  if (values.cast) {
    output.stdout.write(asciicastText(recording));
  } else {

    await playRecording(recording.events, (bytes) => output.stdout.write(bytes), {
      speed,
      toEnd: values['to-end'] === true,
      ...(idleLimit === undefined ? {} : { idleLimitSeconds: idleLimit }),
      ...(signal ? { signal } : {}),
    });
  }
  // After the bytes, on stderr: the terminal shows what the client saw, then what to know about it.
  const screen = output.stdout as { isTTY?: boolean; columns?: number; rows?: number };
  const { header } = recording;
  if (!values.cast && screen.isTTY && header && ((screen.columns ?? Infinity) < header.width || (screen.rows ?? Infinity) < header.height)) {
    output.stderr.write(`\nportcullis sessions: recorded on a ${header.width}x${header.height} terminal, this one is ${screen.columns}x${screen.rows}: lines may have wrapped\n`);
  }
  if (recording.missing.length > 0) output.stderr.write(`\nportcullis sessions: chunk(s) ${recording.missing.join(', ')} of this recording are missing: what they held is not shown\n`);
  if (!recording.final) output.stderr.write(`\nportcullis sessions: the recording has no final chunk: the session is still open, or its end was lost\n`);
  return complete ? 0 : 1;
}

function summaryLine(session: SessionSummary): string {
  const resource = session.resource?.name ?? '?';
  const who = session.principal?.sub ?? (session.principal?.authenticated === false ? '(unauthenticated)' : '?');
  const span = session.ended_at ? `${session.started_at} → ${session.ended_at}` : `${session.started_at} → (open)`;
  const recording = session.recording ? `  recorded (${session.recording.chunks} chunk${session.recording.chunks === 1 ? '' : 's'}${session.recording.final ? '' : ', incomplete'})` : '';
  return `${session.id}  ${session.protocol ?? '?'} ${resource}  ${who}  ${span}  ${session.commands} ran, ${session.denied} denied, ${session.approvals} held${recording}`;
}

function sourceOf(values: { kafka?: string | undefined; 'topic-prefix'?: string | undefined; dir?: string | undefined }): AuditSourceChoice {
  return {
    ...(values.kafka === undefined ? {} : { kafka: values.kafka }),
    ...(values['topic-prefix'] === undefined ? {} : { topicPrefix: values['topic-prefix'] }),
    ...(values.dir === undefined ? {} : { dir: values.dir }),
  };
}

function sessionId(positionals: readonly string[]): string {
  if (positionals.length !== 1 || positionals[0]!.length === 0) throw usage('name one session id');
  return positionals[0]!;
}

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw usage(`${flag} must be a positive number (got "${text}")`);
  return value;
}

function time(text: string, flag: string): number {
  const value = Date.parse(text);
  if (Number.isNaN(value)) throw usage(`${flag} must be an ISO date or time (got "${text}")`);
  return value;
}

/** Ids and texts from the trail are shown on one line, control characters made visible. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function printable(id: string): string {
  return oneLine(id.slice(0, 128));
}

function usage(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_PARSE_ARGS_USAGE' });
}
