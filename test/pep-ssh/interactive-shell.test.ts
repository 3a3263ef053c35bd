// Interactive shells through the SSH PEP: decided once at open as `connect` with the channel and
// PTY (starter pack: people with write access get one, recorded; agents never on production), and
// recorded whole as asciicast v2 on the sessions stream, byte for byte what the client was sent.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { terminalTextToBytes } from '@portcullis/pep-core';
import type { ClientChannel } from 'ssh2';
import { eventually } from '../support/eventually.ts';
import { sessionEventBodies, sessionStatementBodies } from '../support/session-records.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

interface RecordingBody {
  readonly event: string;
  readonly session: { readonly id: string };
  readonly decision_id: string;
  readonly recording: { readonly seq: number; readonly final?: boolean; readonly header?: { width: number; height: number }; readonly events: [number, string, string][] };
}

describe('interactive shells through the SSH PEP', () => {
  let stack: SshPepStack;

  before(async () => {
    stack = await startSshPepStack();
  });
  after(() => stack?.close());

  const recordings = async (): Promise<RecordingBody[]> =>
    sessionEventBodies(await stack.pdp.auditEvents('sessions')).filter((body) => body.event === 'session.recording') as unknown as RecordingBody[];

  it('opens a recorded shell for a person with write access, and the recording holds exactly what the client was sent', async () => {
    const person = await stack.token('dana', ['writer'], 'human');
    const client = await stack.client(person);
    const shell = await new Promise<ClientChannel>((resolve, reject) =>
      client.shell({ term: 'xterm-256color', cols: 100, rows: 30 }, (error, channel) => (error ? reject(error) : resolve(channel))),
    );
    const received: Buffer[] = [];
    shell.on('data', (chunk: Buffer) => received.push(chunk));
    const exited = new Promise<number | null>((resolve) => shell.on('exit', (code: number | null) => resolve(code)));
    const closed = new Promise<void>((resolve) => shell.once('close', () => resolve()));
    shell.write('echo "sum=$((40 + 2))"; printf \'caf\\303\\251 \\377\\n\'\n');
    await eventually('the command ran in the shell', () => Buffer.concat(received).toString('latin1').includes('sum=42'));
    shell.setWindow(40, 120, 0, 0);
    shell.write('exit 3\n');
    assert.equal(await exited, 3);
    await closed;

    assert.ok(stack.sshd.commands().some((entry) => entry.kind === 'shell'), 'the host opened a shell');
    const sent = Buffer.concat(received);
    const chunks = await eventually('the final recording chunk on the sessions stream', async () => {
      const all = await recordings();
      return all.some((chunk) => chunk.recording.final) ? all : undefined;
    });
    const ordered = [...chunks].sort((a, b) => a.recording.seq - b.recording.seq);
    assert.deepEqual(ordered.map((chunk) => chunk.recording.seq), ordered.map((_, index) => index), 'no chunk is missing');
    assert.deepEqual(ordered[0]!.recording.header && [ordered[0]!.recording.header.width, ordered[0]!.recording.header.height], [100, 30]);
    const events = ordered.flatMap((chunk) => chunk.recording.events);
    const output = Buffer.concat(events.filter(([, code]) => code === 'o').map(([, , data]) => terminalTextToBytes(data)));
    assert.ok(output.equals(sent), 'the recorded output is byte for byte what the client received');
    assert.ok(sent.includes(Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xff])), 'non-UTF-8 output went through unchanged');
    const input = events.filter(([, code]) => code === 'i').map(([, , data]) => data).join('');
    assert.match(input, /exit 3/);
    assert.ok(events.some(([, code, data]) => code === 'r' && data === '120x40'), 'the resize is recorded');

    const statements = sessionStatementBodies(await stack.pdp.auditEvents('sessions')).filter((body) => body.statement.kind === 'shell');
    assert.equal(statements.length, 1);
    assert.equal((statements[0] as unknown as { decision_id: string }).decision_id, ordered[0]!.decision_id, 'the shell entry and its recording name the opening decision');
  });

  it('records an exec with a terminal whole, as a shell, under the command\'s own decision, and refuses it to a reader', async () => {
    const reader = await stack.token('erin', ['reader'], 'human');
    const refused = await stack.ssh(reader, 'echo reader-terminal', { args: ['-tt'] });
    assert.equal(refused.code, 77, refused.stderr);
    assert.ok(!stack.sshd.commands().some((entry) => entry.command === 'echo reader-terminal'), 'a reader\'s terminal never reached the host');

    const person = await stack.token('frank', ['reader', 'writer'], 'human');
    const client = await stack.client(person);
    const before = (await recordings()).length;
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      client.exec('echo terminal-exec-ok', { pty: { term: 'xterm', cols: 90, rows: 20 } }, (error, stream) => (error ? reject(error) : resolve(stream))),
    );
    const received: Buffer[] = [];
    channel.on('data', (chunk: Buffer) => received.push(chunk));
    const exited = new Promise<number | null>((resolve) => channel.on('exit', (status: number | null) => resolve(status)));
    const closed = new Promise<void>((resolve) => channel.once('close', () => resolve()));
    const code = await exited;
    await closed;
    assert.equal(code, 0);
    const sent = Buffer.concat(received);
    assert.match(sent.toString('utf8'), /terminal-exec-ok/);

    const chunks = await eventually('the exec\'s recording, to its final chunk', async () => {
      const mine = (await recordings()).slice(before);
      return mine.some((chunk) => chunk.recording.final) ? mine : undefined;
    });
    const ordered = [...chunks].sort((a, b) => a.recording.seq - b.recording.seq);
    assert.deepEqual(ordered[0]!.recording.header && [ordered[0]!.recording.header.width, ordered[0]!.recording.header.height], [90, 20]);
    const output = Buffer.concat(ordered.flatMap((chunk) => chunk.recording.events).filter(([, kind]) => kind === 'o').map(([, , data]) => terminalTextToBytes(data)));
    assert.ok(output.equals(sent), 'the recorded output is byte for byte what the client received');
    const entry = await eventually('the command on the session record', async () =>
      sessionStatementBodies(await stack.pdp.auditEvents('sessions')).find((body) => body.statement.text === 'echo terminal-exec-ok'),
    );
    assert.equal((entry as unknown as { decision_id: string }).decision_id, ordered[0]!.decision_id, 'the entry and the recording name the command\'s decision');
    client.end();
  });

  it('refuses an agent a terminal on production before the host sees anything', async () => {
    const agent = await stack.token('agent-writer', ['writer']);
    const shellsBefore = stack.sshd.commands().filter((entry) => entry.kind === 'shell').length;
    const result = await stack.ssh(agent, 'echo with-a-terminal', { args: ['-tt'] });
    assert.equal(result.code, 77, result.stderr);
    assert.match(result.stdout + result.stderr, /ssh-interactive-session-by-agent/);
    assert.ok(!stack.sshd.commands().some((entry) => entry.command === 'echo with-a-terminal'));

    const client = await stack.client(agent);
    const shell = await new Promise<ClientChannel>((resolve, reject) => client.shell({ term: 'xterm' }, (error, channel) => (error ? reject(error) : resolve(channel))));
    const stderr: Buffer[] = [];
    shell.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const code = await new Promise<number | null>((resolve) => shell.on('exit', (status: number | null) => resolve(status)));
    assert.equal(code, 77);
    assert.match(Buffer.concat(stderr).toString('utf8'), /denied by policy/);
    assert.equal(stack.sshd.commands().filter((entry) => entry.kind === 'shell').length, shellsBefore);
  });
});
