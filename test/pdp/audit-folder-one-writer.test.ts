import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { auditCli } from '../support/audit-cli.ts';
import { ensureStarterBundle } from '../support/pdp-harness.ts';
import { startServeProcess, type ServeProcess } from '../support/pdp-serve-process.ts';

const started: ServeProcess[] = [];
const folders: string[] = [];
after(() => {
  for (const each of started) each.child.kill('SIGKILL');
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function serve(env: NodeJS.ProcessEnv): ServeProcess {
  const pdp = startServeProcess({ PORTCULLIS_BUNDLE_FILE: ensureStarterBundle(), PORTCULLIS_POLICY_WORKERS: '1', ...env });
  started.push(pdp);
  return pdp;
}

/** Each file of the folder with its size and content's digest (the first PDP is idle meanwhile: no digest is due within the hour). */
function folderSnapshot(directory: string): Record<string, string> {
  return Object.fromEntries(readdirSync(directory).sort().map((name) => [name, createHash('sha256').update(readFileSync(join(directory, name))).digest('hex')]));
}

describe('one PDP per audit folder', () => {
  test('a second PDP on a folder a live PDP writes refuses to start and writes nothing; after the first is killed, a new one takes over and the trail verifies', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'portcullis-one-writer-'));
    folders.push(stateDir);
    const auditDir = join(stateDir, 'audit');
    const first = serve({ PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_AUDIT_DIGEST_INTERVAL_SECONDS: '3600' });
    const url = await first.listening();

    // Another state folder, the same audit folder: still refused.
    const otherState = mkdtempSync(join(tmpdir(), 'portcullis-one-writer-other-'));
    folders.push(otherState);
    const before = folderSnapshot(auditDir);
    const second = serve({ PORTCULLIS_STATE_DIR: otherState, PORTCULLIS_AUDIT_DIR: auditDir });
    assert.equal(await second.exited, '1');
    assert.match(second.log(), new RegExp(`the audit folder ${auditDir} is in use by another PDP \\(pid ${first.child.pid} on host`));
    assert.doesNotMatch(second.log(), /listening on/);
    assert.deepEqual(folderSnapshot(auditDir), before, 'the refused PDP wrote nothing into the folder');
    assert.equal((await fetch(`${url}/health`)).status, 200, 'the first PDP keeps serving');

    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal(existsSync(join(auditDir, 'writer.lock')), true, 'a killed PDP leaves its lock behind');
    const third = serve({ PORTCULLIS_STATE_DIR: stateDir });
    await third.listening();
    assert.match(third.log(), /took over the lock of .* from a PDP that is gone \(pid \d+ on host/);
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, '0');
    assert.equal(existsSync(join(auditDir, 'writer.lock')), false, 'a PDP that stops lets go of its folder');

    const verified = await auditCli(stateDir, 'verify', '--json', '--dir', auditDir);
    assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);
  });

  test('a PDP whose lock was taken over stops at its next heartbeat with exit code 1, and leaves the new holder\'s lock alone', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'portcullis-lost-lock-'));
    folders.push(stateDir);
    const lockPath = join(stateDir, 'audit', 'writer.lock');
    const pdp = serve({ PORTCULLIS_STATE_DIR: stateDir });
    const url = await pdp.listening();
    // As a PDP elsewhere would after judging this one gone: its own lock in place of this one's.
    const newHolder = JSON.stringify({ pid: 4242, process_started: null, host: 'elsewhere', boot_id: null, pid_namespace: null, instance: 'the-new-holder', since: new Date().toISOString() });
    rmSync(lockPath);
    writeFileSync(lockPath, newHolder);
    assert.equal(await pdp.exited, '1');
    assert.match(pdp.log(), /the lock of the audit folder .* was taken over or removed; this PDP stops/);
    assert.equal(readFileSync(lockPath, 'utf8'), newHolder);
    await assert.rejects(fetch(`${url}/health`), 'it no longer answers');
  });
});

