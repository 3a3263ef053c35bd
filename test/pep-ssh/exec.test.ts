// exec through the SSH PEP with the real OpenSSH client and the ssh2 client: one decision per
// command; what runs on the host (its own log) is exactly what the PDP judged; a denied command
// never reaches the host; a change on production (web-1) is held for approval and runs once.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { eventually } from '../support/eventually.ts';
import { sessionStatementBodies } from '../support/session-records.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

describe('exec through the SSH PEP', () => {
  let stack: SshPepStack;
  let reader: string;
  let writer: string;
  let approver: string;

  before(async () => {
    stack = await startSshPepStack();
    reader = await stack.token('agent-reader', ['reader']);
    writer = await stack.token('agent-writer', ['writer']);
    approver = await stack.consoleToken('alice', ['approver']);
  });
  after(() => stack?.close());

  const hostExecs = (): string[] => stack.sshd.execs();

  const vote = async (approvalId: string, verdict: 'approve' | 'deny', reason: string): Promise<void> => {
    const response = await fetch(`${stack.pdp.url}/v1/approvals/${approvalId}/votes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict, reason }),
    });
    assert.equal(response.status, 200, await response.text());
  };

  it('runs an allowed command with the real ssh client: output, exit status, and the host ran exactly the text judged', async () => {
    const command = `echo "it's" 'quoted'   $((1+2)) && cat /etc/hostname >/dev/null; false`;
    const result = await stack.ssh(reader, command);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "it's quoted 3\n");
    assert.equal(hostExecs().at(-1), command);
  });

  it('refuses a denied command with the reasons on stderr and exit status 77, and the host never sees it', async () => {
    const denied = `eval 'touch ${join(stack.sshd.workDir, 'evaluated')}'`;
    const result = await stack.ssh(reader, denied);
    assert.equal(result.code, 77);
    assert.match(result.stderr, /portcullis: denied by policy/);
    assert.match(result.stderr, /\[decision [^\]]+\]/);
    assert.equal(result.stdout, '');
    // An allowed command after it is on the host's log: the denied one, sent before, is not.
    const marker = 'echo after-the-denied-one';
    assert.equal((await stack.ssh(reader, marker)).code, 0);
    assert.equal(hostExecs().at(-1), marker);
    assert.ok(!hostExecs().includes(denied));
    assert.ok(!existsSync(join(stack.sshd.workDir, 'evaluated')));
  });

  it('refuses a reader\'s change on production (it needs write access), never reaching the host', async () => {
    const target = join(stack.sshd.workDir, 'by-reader');
    const result = await stack.ssh(reader, `touch ${target}`);
    assert.equal(result.code, 77, result.stderr);
    assert.ok(!hostExecs().includes(`touch ${target}`));
    assert.ok(!existsSync(target));
  });

  it('holds a writer\'s change on production for approval, naming it on stderr, and runs it once approved', async () => {
    const target = join(stack.sshd.workDir, 'approved-file');
    const command = `touch ${target}`;
    const child = stack.spawnSsh(writer, [command]);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const approvalId = await eventually('the approval notice on stderr', () => /approval ([0-9a-f-]{36})/.exec(stderr)?.[1]);
    assert.match(stderr, /approval required/);
    assert.ok(!hostExecs().includes(command), 'nothing ran while held');
    await vote(approvalId, 'approve', 'ticket 7');
    assert.equal(await exited, 0, stderr);
    assert.ok(existsSync(target));
    assert.equal(hostExecs().filter((text) => text === command).length, 1);
  });

  it('refuses a held change the approver denies, with the approver\'s reason and exit status 77', async () => {
    const target = join(stack.sshd.workDir, 'denied-file');
    const child = stack.spawnSsh(writer, [`touch ${target}`]);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const approvalId = await eventually('the approval notice on stderr', () => /approval ([0-9a-f-]{36})/.exec(stderr)?.[1]);
    await vote(approvalId, 'deny', 'not during the freeze');
    assert.equal(await exited, 77);
    assert.match(stderr, /approval-denied/);
    assert.ok(!existsSync(target));
  });

  it('finds the approval by its binding when a client that gave up runs the same command again', async () => {
    const target = join(stack.sshd.workDir, 'rerun-file');
    const command = `touch ${target}`;
    const child = stack.spawnSsh(writer, [command]);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const approvalId = await eventually('the approval notice on stderr', () => /approval ([0-9a-f-]{36})/.exec(stderr)?.[1]);
    assert.match(stderr, /run the same command again once it is approved/);
    // The client gives up; the approval stays.
    child.kill('SIGTERM');
    await exited;
    await vote(approvalId, 'approve', 'ticket 8');
    const rerun = await stack.ssh(writer, command);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.ok(existsSync(target));
    assert.equal(hostExecs().filter((text) => text === command).length, 1);
    // Approved once, run once: the same command again is held anew.
    const again = stack.spawnSsh(writer, [command]);
    let againErr = '';
    again.stderr!.on('data', (chunk: Buffer) => (againErr += chunk.toString('utf8')));
    const next = await eventually('a new approval for the second run', () => /approval ([0-9a-f-]{36})/.exec(againErr)?.[1]);
    assert.notEqual(next, approvalId);
    again.kill('SIGTERM');
  });

  it('records a command the client left while it ran, once the client is gone', async () => {
    const command = 'tail -f /etc/hostname';
    const child = stack.spawnSsh(reader, [command]);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    await eventually('the command runs on the host and its output arrives', () => stdout.length > 0 && hostExecs().includes(command));
    child.kill('SIGKILL');
    const entry = await eventually('the session entry of the command the client left', async () =>
      sessionStatementBodies(await stack.pdp.auditEvents('sessions')).find((body) => body.statement.text === command),
    );
    assert.equal(entry.status, 'failure');
    assert.match(String(entry.error), /the client left before the command ended/);
  });

  it('streams stdin up and keeps the exit status with the ssh2 client', async () => {
    const client = await stack.client(reader);
    const result = await stack.exec(client, 'wc -c', { input: 'x'.repeat(100_000) });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), '100000');
  });

  it('takes the token by keyboard-interactive too, from OpenSSH and from ssh2', async () => {
    const result = await stack.ssh(reader, 'echo by-keyboard', { args: ['-o', 'PreferredAuthentications=keyboard-interactive'] });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'by-keyboard\n');
    // ssh2 answers the PEP's prompt with the token; the prompt asks for it with echo off.
    const client = new ssh2.Client();
    const prompts: { prompt: string; echo?: boolean }[] = [];
    client.on('keyboard-interactive', (_name, _instructions, _lang, asked, finish) => {
      prompts.push(...asked);
      finish([reader]);
    });
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
      client.connect({ host: '127.0.0.1', port: stack.port, username: 'agent-reader', tryKeyboard: true, authHandler: ['keyboard-interactive'], hostVerifier: (key: Buffer) => key.toString('base64') === stack.pep.hostPublicKey.split(' ')[1] });
    });
    try {
      assert.deepEqual(prompts, [{ prompt: 'Portcullis token: ', echo: false }]);
      assert.equal((await stack.exec(client, 'echo ssh2-keyboard')).stdout, 'ssh2-keyboard\n');
    } finally {
      client.end();
    }
  });

  it('refuses a login whose token the PDP does not accept', async () => {
    const result = await stack.ssh(`${reader.slice(0, -4)}AAAA`, 'echo never', { user: 'agent-reader' });
    assert.equal(result.code, 255);
    assert.match(result.stderr, /Permission denied/);
    assert.ok(!hostExecs().includes('echo never'));
  });
});
