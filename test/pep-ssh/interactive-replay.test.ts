// An interactive session through the real OpenSSH client (`ssh -tt`) and the SSH PEP to a real
// sshd, recorded on the sessions stream and played back by `portcullis sessions replay`: the
// replay writes byte for byte what the client's terminal was sent, non-UTF-8 bytes included.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { sessionsCli } from '../support/sessions-cli.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

interface ListedSession {
  readonly id: string;
  readonly principal?: { readonly sub?: string };
  readonly recording?: { readonly chunks: number; readonly missing: readonly number[]; readonly final: boolean };
}

describe('an interactive ssh -tt session, recorded and replayed', () => {
  let stack: SshPepStack;

  before(async () => {
    stack = await startSshPepStack();
  });
  after(() => stack?.close());

  /**
   * Runs `ssh -tt` (a PTY, no command: the login shell) and types each step once the screen shows
   * what the step waits for, as a person would; its stdout as bytes.
   */
  async function interactive(token: string, steps: ReadonlyArray<{ readonly after?: string; readonly type: string }>): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
    const ssh = stack.openSshArgs(token);
    const child = spawn('ssh', [...ssh.args, '-tt', ssh.destination], { env: ssh.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const closed = new Promise<number | null>((resolve) => child.once('close', (exit) => resolve(exit)));
    for (const step of steps) {
      if (step.after !== undefined) await eventually(`the screen shows ${JSON.stringify(step.after)}`, () => Buffer.concat(stdout).includes(step.after!));
      child.stdin.write(step.type);
    }
    child.stdin.end();
    const code = await closed;
    return { code, stdout: Buffer.concat(stdout), stderr };
  }

  it('replays exactly the bytes the ssh client was sent, at once with --to-end and as an asciicast file', async () => {
    const dana = await stack.token('dana', ['reader', 'writer'], 'human');
    // Each step waits for what only the output shows (never the echo of the line typed before it).
    const run = await interactive(dana, [
      { type: "printf 'caf\\303\\251 \\377\\376 \\342\\234\\223\\n'\n" },
      { after: '✓', type: 'echo "sum=$((40 + 2))"\n' },
      { after: 'sum=42', type: "printf '\\033[1;31mred\\033[0m\\r\\n'\n" },
      // A secret read with echo off, typed once the prompt is on screen: the client never sees it.
      { after: '\x1b[1;31mred', type: "read -rs -p 'pass''word: ' pw; echo; echo \"length=${#pw}\"\n" },
      { after: 'password: ', type: 'hunter2-secret\n' },
      { after: 'length=14', type: 'exit 3\n' },
    ]);
    assert.equal(run.code, 3, run.stderr);
    assert.ok(run.stdout.includes(Buffer.from('sum=42')), 'the shell ran what was typed');
    assert.ok(run.stdout.includes(Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xff, 0xfe, 0x20, 0xe2, 0x9c, 0x93])), 'bytes that are not UTF-8 reached the client unchanged');
    assert.ok(stack.sshd.commands().some((entry) => entry.kind === 'shell'), 'the host opened a shell');

    const session = await eventually('the session listed with its whole recording', async () => {
      const listed = await sessionsCli(stack.pdp.stateDir, 'list', '--principal', 'dana', '--resource', 'web-1', '--json');
      return (JSON.parse(listed.stdout.toString('utf8')) as ListedSession[]).find((each) => each.recording?.final === true);
    });
    assert.deepEqual(session.recording?.missing, []);

    const replay = await sessionsCli(stack.pdp.stateDir, 'replay', session.id, '--to-end');
    assert.equal(replay.code, 0, replay.stderr);
    assert.ok(replay.stdout.equals(run.stdout), `the replay is byte for byte what ssh printed (${replay.stdout.length} vs ${run.stdout.length} bytes)`);

    const cast = await sessionsCli(stack.pdp.stateDir, 'replay', session.id, '--cast');
    const [header, ...events] = cast.stdout.toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
    assert.equal((header as { version: number }).version, 2);
    const input = (events as [number, string, string][]).filter(([, code]) => code === 'i').map(([, , data]) => data).join('');
    assert.ok(input.includes('exit 3') && input.includes('echo "sum=$((40 + 2))"'), 'what was typed and echoed is recorded as input');
    assert.ok(!run.stdout.includes(Buffer.from('hunter2')), 'the client never saw the secret');
    const stored = JSON.stringify(await stack.pdp.auditEvents('sessions'));
    assert.ok(!stored.includes('hunter2'), 'a secret typed with echo off is nowhere in the session records');
  });

  it('slows a shell that prints faster than its record is stored to the record\'s pace, and records every byte', async () => {
    const erin = await stack.token('erin', ['reader', 'writer'], 'human');
    // About 40 MB of output at wire speed: more than the PEP's record queue holds (16 MiB).
    const run = await interactive(erin, [{ type: 'head -c 30000000 /dev/zero | base64 -w 100; echo bulk-done; exit 0\n' }]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stderr.includes('cannot keep up'), run.stderr);
    assert.ok(run.stdout.includes(Buffer.from('bulk-done')) && run.stdout.length > 40_000_000, `${run.stdout.length} bytes`);
    const session = await eventually('the session listed with its whole recording', async () => {
      const listed = await sessionsCli(stack.pdp.stateDir, 'list', '--principal', 'erin', '--json');
      return (JSON.parse(listed.stdout.toString('utf8')) as ListedSession[]).find((each) => each.recording?.final === true);
    });
    assert.deepEqual(session.recording?.missing, []);
    const replay = await sessionsCli(stack.pdp.stateDir, 'replay', session.id, '--to-end');
    assert.equal(replay.code, 0, replay.stderr);
    assert.ok(replay.stdout.equals(run.stdout), `the replay is byte for byte what ssh printed (${replay.stdout.length} vs ${run.stdout.length} bytes)`);
  });
});
