// An approval hold as the client sees it: progress notifications with its token, rising, the
// notice as the message, kept alive while held, and nothing for a client that gave no token.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressNotifier, type ProgressNotification } from '../../src/calls/progress-notifier.ts';
import { eventually } from '../../../../test/support/eventually.ts';

describe('progressNotifier', () => {
  it('sends each notice as a progress notification with the client\'s token and a rising progress', () => {
    const sent: ProgressNotification[] = [];
    const notify = progressNotifier((notification) => void sent.push(notification), 'call-7', { keepAliveMs: 3_600_000 });
    notify('portcullis: approval required; approval a-1');
    notify('portcullis: approval a-1 has 1 vote so far; still waiting', 'needs 2');
    notify.stop();
    notify('after the hold');
    assert.deepEqual(sent, [
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'call-7', progress: 1, message: 'portcullis: approval required; approval a-1' } },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'call-7', progress: 2, message: 'portcullis: approval a-1 has 1 vote so far; still waiting; needs 2' } },
    ]);
  });

  it('sends nothing for a call without a progress token', () => {
    const sent: ProgressNotification[] = [];
    const notify = progressNotifier((notification) => void sent.push(notification), undefined);
    notify('portcullis: approval required');
    notify.stop();
    assert.equal(sent.length, 0);
  });

  it('repeats the last notice while the call is held, until stopped, when asked to keep it alive', async () => {
    const sent: ProgressNotification[] = [];
    const notify = progressNotifier((notification) => void sent.push(notification), 0, { keepAliveMs: 5 });
    notify('portcullis: approval required; approval a-2');
    await eventually('the notice is repeated', () => sent.length >= 3);
    notify.stop();
    const count = sent.length;
    assert.deepEqual(sent.map((n) => n.params.progress), Array.from({ length: count }, (_, i) => i + 1));
    assert.ok(sent.every((n) => n.params.message === 'portcullis: approval required; approval a-2' && n.params.progressToken === 0));
  });

  it('stops when the call is cancelled, and a failing send never reaches the caller', async () => {
    const controller = new AbortController();
    let calls = 0;
    const notify = progressNotifier(() => {
      calls += 1;
      throw new Error('client gone');
    }, 'x', { signal: controller.signal });
    notify('one');
    const rejecting = progressNotifier(() => Promise.reject(new Error('stream closed')), 'y');
    rejecting('two');
    rejecting.stop();
    controller.abort();
    notify('three');
    assert.equal(calls, 1);
  });
});
