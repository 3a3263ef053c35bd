// A PDP whose audit folder was taken over stops its audit thread where it stands (abandon):
// records it still holds are not written into the folder, whose files are now another PDP's;
// whoever waits for them is failed (their decisions are denied); nothing is admitted after.
// The real audit thread and JSONL sink, on a temporary folder.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { siblingModule } from '../src/threads/module-worker.ts';
import { loadPdpConfig } from '../src/config/pdp-config.ts';
import { ThreadedAuditTrail } from '../src/audit/trail/threaded-audit-trail.ts';
import { decisionEvent } from './audit-fixtures.ts';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-abandon-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A started audit thread with the JSONL sink, in `stateDir`'s audit folder, as the PDP starts it. */
async function startTrail(stateDir: string, log: (message: string) => void): Promise<{ trail: ThreadedAuditTrail; auditDirectory: string }> {
  const config = loadPdpConfig({ PORTCULLIS_STATE_DIR: stateDir, PORTCULLIS_AUDIT_SINK: 'default' });
  const sqlTextRedactionModule = siblingModule(new URL('../src/main.ts', import.meta.url).href, 'enrichment/sql/sql-text-redaction').href;
  const trail = new ThreadedAuditTrail({ audit: config.audit, stateDir, hostLabel: 'test-host', productVersion: '0.1.0-test', sqlTextRedactionModule }, log);
  await trail.start();
  return { trail, auditDirectory: config.audit.directory };
}

/** Every decision id in the folder's JSONL files (a decision record's `metadata.correlation_uid`). */
function storedDecisionIds(folder: string): string[] {
  const ids: string[] = [];
  for (const name of readdirSync(folder, { recursive: true }) as string[]) {
    if (!name.endsWith('.jsonl')) continue;
    for (const line of readFileSync(join(folder, name), 'utf8').split('\n')) {
      const match = /"correlation_uid":"([^"]+)"/.exec(line);
      if (match) ids.push(match[1]!);
    }
  }
  return ids;
}

describe('ThreadedAuditTrail.abandon', () => {
  it('writes none of the records it still holds, fails their waiters, and admits nothing after', async () => {
    const logged: string[] = [];
    const { trail, auditDirectory } = await startTrail(dir, (message) => logged.push(message));
    assert.equal(trail.record(decisionEvent({ decisionId: 'dec-stored' })), true);
    await trail.durable();

    // Recorded in this turn of the event loop: not yet handed to the audit thread.
    assert.equal(trail.record(decisionEvent({ decisionId: 'dec-held-1' })), true);
    assert.equal(trail.record(decisionEvent({ decisionId: 'dec-held-2' })), true);
    const waiting = trail.durable();
    const abandoned = trail.abandon('the audit folder was taken over');
    await assert.rejects(waiting, /abandoned: the audit folder was taken over/);
    await abandoned;

    assert.equal(trail.admits(), false);
    assert.equal(trail.record(decisionEvent({ decisionId: 'dec-after' })), false);
    await assert.rejects(trail.durable(), /abandoned/);
    assert.equal(trail.health().status, 'failing');
    // Closing after abandoning returns at once and writes nothing either.
    await trail.close();
    assert.deepEqual(storedDecisionIds(auditDirectory), ['dec-stored']);
    // The thread's end is not reported as a crash on top.
    assert.equal(logged.filter((message) => message.includes('the audit thread stopped')).length, 0);
    assert.deepEqual(logged.filter((message) => message.includes('not written')), ['audit: 2 records not yet handed to the audit thread are not written (the audit folder was taken over)']);
  });

  it('still stops the thread when a close is already under way, and both settle', async () => {
    const { trail } = await startTrail(join(dir, 'closing'), () => undefined);
    assert.equal(trail.record(decisionEvent({ decisionId: 'dec-closing' })), true);
    const outcome = trail.durable().then(() => 'stored', (error: Error) => error.message);
    const closing = trail.close();
    const abandoned = trail.abandon('the audit folder was taken over');
    await Promise.all([closing, abandoned]);
    // Either the record was stored before the thread ended, or its waiter was failed: never left hanging.
    assert.match(await outcome, /^stored$|abandoned/);
    assert.equal(trail.health().status, 'failing');
    assert.equal(trail.admits(), false);
  });
});
