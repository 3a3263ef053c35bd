// A masked interactive session: policy allows the shell with a byte-stream mask obligation, so the
// client's terminal gets e-mail addresses redacted; the recording holds exactly what the client
// was sent (masked) and the address the principal may only see masked is in no session record.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { REPOSITORY_ROOT } from '../support/repository-root.ts';
import { sessionsCli } from '../support/sessions-cli.ts';
import { startSshPepStack, type SshPepStack } from './pep-stack.ts';

/** Everything allowed and recorded; an interactive session's output has e-mail addresses redacted. */
const MASKED_SHELL_POLICY = `package portcullis

interactive if {
	input.action.type == "connect"
	input.action.channel == "shell"
}

masks := [{"kind": "byte-stream", "detectors": ["email"], "strategy": "redact"}] if interactive else := []

decision := {
	"effect": "allow",
	"reasons": [{"code": "masked-shell-test", "message": "the masked shell test policy allows this"}],
	"obligations": {"mask": masks, "record": true, "unmasked": count(masks) == 0},
}
`;

function maskedShellBundle(): string {
  const folder = mkdtempSync(join(tmpdir(), 'portcullis-masked-shell-policy-'));
  mkdirSync(join(folder, 'portcullis'));
  writeFileSync(join(folder, 'portcullis', 'decision.rego'), MASKED_SHELL_POLICY);
  const bundle = join(folder, 'bundle.tar.gz');
  const opa = execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'path', 'opa'], { encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync(opa, ['build', '-t', 'wasm', '-e', 'portcullis/decision', '-o', bundle, join(folder, 'portcullis')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return bundle;
}

describe('a masked interactive session, recorded', () => {
  let stack: SshPepStack;

  before(async () => {
    stack = await startSshPepStack({ pdpEnv: { PORTCULLIS_BUNDLE_FILE: maskedShellBundle() } });
  });
  after(() => stack?.close());

  it('records what the client saw, masked, and keeps the address out of every record', async () => {
    const dana = await stack.token('dana', ['writer'], 'human');
    const ssh = stack.openSshArgs(dana);
    const child = spawn('ssh', [...ssh.args, '-tt', ssh.destination], { env: ssh.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    // The address is assembled on the host, so only the host's output ever holds it whole.
    child.stdin.write("printf 'owner: jane.doe@%s ok\\n' example.com; exit 0\n");
    child.stdin.end();
    assert.equal(await closed, 0, stderr);
    const seen = Buffer.concat(stdout);
    // The echo of the typed line shows 'jane.doe@%s'; the host's output line, with the address masked, is what counts.
    const printed = /owner: (?!jane\.doe@%s)(\S+) ok\r\n/.exec(seen.toString('utf8'));
    assert.ok(printed, `the host's line reached the client: ${JSON.stringify(seen.toString('utf8'))}`);
    assert.notEqual(printed[1], 'jane.doe@example.com');
    assert.ok(!seen.includes(Buffer.from('jane.doe@example.com')), 'the client saw the address masked');

    const session = await eventually('the session listed with its whole recording', async () => {
      const listed = await sessionsCli(stack.pdp.stateDir, 'list', '--principal', 'dana', '--json');
      return (JSON.parse(listed.stdout.toString('utf8')) as Array<{ id: string; recording?: { final: boolean } }>).find((each) => each.recording?.final === true);
    });
    const replay = await sessionsCli(stack.pdp.stateDir, 'replay', session.id, '--to-end');
    assert.equal(replay.code, 0, replay.stderr);
    assert.ok(replay.stdout.equals(seen), 'the replay is what the client was sent: masked');
    const records = JSON.stringify(await stack.pdp.auditEvents('sessions'));
    assert.ok(!records.includes('jane.doe@example.com'), 'the address is in no session record');
  });
});
