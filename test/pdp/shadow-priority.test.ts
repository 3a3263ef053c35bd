// The shadow's evaluations run at a lower scheduling priority than the live path: its worker
// threads alone are niced (Linux), so a machine with no core to spare sheds shadow evaluations
// instead of slowing decisions. The PDP runs in this process, so its threads are this process's.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { ensureStarterBundle, startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

/** Niceness of each thread of this process, by thread id (field 19 of /proc/…/stat). */
function threadNiceness(): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(Number(tid), Number(fields[16]));
  }
  return threads;
}

const lowered = (): number[] => [...threadNiceness()].filter(([, nice]) => nice > 0).map(([, nice]) => nice);

async function shadowActive(pdp: TestPdp): Promise<void> {
  const token = await pdp.token({ sub: 'monitor-priority', roles: ['monitor'] });
  await eventually('the shadow candidate to be active', async () => {
    const response = await fetch(`${pdp.url}/v1/policy`, { headers: { authorization: `Bearer ${token}` } });
    const view = (await response.json()) as { shadow?: { bundle: { state: string } } };
    return view.shadow?.bundle.state === 'active';
  }, { timeoutMs: 120_000, intervalMs: 200 });
}

describe('shadow evaluation priority', { skip: process.platform !== 'linux' && 'thread priorities are set on Linux only' }, () => {
  const running: TestPdp[] = [];
  after(async () => {
    for (const pdp of running) await pdp.close();
  });

  it('the shadow\'s worker threads, and only they, run at the configured niceness; the live path keeps the process\'s', async () => {
    assert.deepEqual(lowered(), [], 'nothing is lowered before a shadow starts');
    const pdp = await startTestPdp({ PORTCULLIS_SHADOW_BUNDLE_FILE: ensureStarterBundle(), PORTCULLIS_SHADOW_WORKERS: '2', PORTCULLIS_SHADOW_NICENESS: '15' });
    running.push(pdp);
    await shadowActive(pdp);
    assert.deepEqual(lowered(), [15, 15], 'the two shadow workers');
    assert.equal(threadNiceness().get(process.pid), 0, 'the main thread (HTTP, the live decisions) is not lowered');
    const { status, body } = await pdp.decide({ subject_token: await pdp.token({ sub: 'agent-priority', roles: ['reader'] }), resource: { type: 'postgres', name: 'orders-db', environment: 'production' }, action: { type: 'sql', sql: 'SELECT 1' } });
    assert.equal(status, 200);
    assert.equal(body.effect, 'allow');
    await pdp.close();
    running.pop();
    await eventually('the lowered threads to end with the shadow', () => lowered().length === 0);
  });

  it('niceness 0 leaves the shadow\'s workers at the process\'s priority', async () => {
    const pdp = await startTestPdp({ PORTCULLIS_SHADOW_BUNDLE_FILE: ensureStarterBundle(), PORTCULLIS_SHADOW_NICENESS: '0' });
    running.push(pdp);
    await shadowActive(pdp);
    assert.deepEqual(lowered(), []);
  });
});
