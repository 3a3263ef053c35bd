// What an upgrade request may ask for: only exec, attach and port-forward of a pod, over WebSocket
// or SPDY/3.1, offering only subprotocols the PEP reads; anything else is refused before it is
// decided, so nothing the PEP cannot read is ever relayed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeRequest } from '../src/request/kube-request.ts';
import { isUpgradeRefusal, planUpgrade, type UpgradePlan } from '../src/upgrades/upgrade-plan.ts';

const WS_HEADERS = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };
const SPDY_HEADERS = { connection: 'Upgrade', upgrade: 'SPDY/3.1' };

function request(method: string, path: string, rawQuery: string, headers: Record<string, string | string[]>): KubeRequest {
  return { method, path, rawQuery, headers, body: Buffer.alloc(0) };
}

function plan(value: ReturnType<typeof planUpgrade>): UpgradePlan {
  assert.ok(!isUpgradeRefusal(value), JSON.stringify(value));
  return value;
}

function refused(value: ReturnType<typeof planUpgrade>): string {
  assert.ok(isUpgradeRefusal(value), JSON.stringify(value));
  return value.message;
}

describe('the upgrade plan', () => {
  it('offers the API server only the channel protocols of an exec, in the client\'s order', () => {
    const exec = plan(planUpgrade(request('GET', '/api/v1/namespaces/a/pods/p/exec', 'command=sh&tty=true', { ...WS_HEADERS, 'sec-websocket-protocol': 'v5.channel.k8s.io, SPDY/3.1+portforward.k8s.io, x-unknown, v4.base64.channel.k8s.io' })));
    assert.deepEqual(exec, { subresource: 'exec', transport: 'websocket', offered: ['v5.channel.k8s.io', 'v4.base64.channel.k8s.io'], tty: true });
    const spdy = plan(planUpgrade(request('POST', '/api/v1/namespaces/a/pods/p/attach', 'stdout=true', { ...SPDY_HEADERS, 'x-stream-protocol-version': ['v5.channel.k8s.io', 'v4.base64.channel.k8s.io', 'portforward.k8s.io'] })));
    assert.deepEqual(spdy, { subresource: 'attach', transport: 'spdy', offered: ['v5.channel.k8s.io'], tty: false });
  });

  it('records a terminal whenever Kubernetes would read tty as true', () => {
    for (const [query, tty] of [['tty=1', true], ['tty=TRUE', true], ['tty=yes', true], ['tty=false&tty=1', true], ['tty=0', false], ['tty=False', false], ['', false]] as const) {
      assert.equal(plan(planUpgrade(request('GET', '/api/v1/namespaces/a/pods/p/exec', query, { ...WS_HEADERS, 'sec-websocket-protocol': 'v5.channel.k8s.io' }))).tty, tty, query);
    }
  });

  it('offers the channel form of port-forward only with the ports its query names', () => {
    const headers = { ...WS_HEADERS, 'sec-websocket-protocol': 'SPDY/3.1+portforward.k8s.io, v4.channel.k8s.io' };
    assert.deepEqual(plan(planUpgrade(request('GET', '/api/v1/namespaces/a/pods/p/portforward', '', headers))).offered, ['SPDY/3.1+portforward.k8s.io']);
    const named = plan(planUpgrade(request('GET', '/api/v1/namespaces/a/pods/p/portforward', 'ports=8080,9090', headers)));
    assert.deepEqual([named.offered, named.ports], [['SPDY/3.1+portforward.k8s.io', 'v4.channel.k8s.io'], [8080, 9090]]);
    assert.match(refused(planUpgrade(request('GET', '/api/v1/namespaces/a/pods/p/portforward', 'ports=0x50', headers))), /not a port number/);
    assert.deepEqual(plan(planUpgrade(request('POST', '/api/v1/namespaces/a/pods/p/portforward', '', { ...SPDY_HEADERS, 'x-stream-protocol-version': 'portforward.k8s.io' }))).offered, ['portforward.k8s.io']);
  });

  it('refuses every other upgrade', () => {
    const cases: [string, KubeRequest][] = [
      ['a pod proxy', request('GET', '/api/v1/namespaces/a/pods/p/proxy', '', { ...WS_HEADERS, 'sec-websocket-protocol': 'v5.channel.k8s.io' })],
      ['a service proxy', request('GET', '/api/v1/namespaces/a/services/s/proxy/exec', '', { ...WS_HEADERS, 'sec-websocket-protocol': 'v5.channel.k8s.io' })],
      ['another protocol', request('GET', '/api/v1/namespaces/a/pods/p/exec', '', { connection: 'Upgrade', upgrade: 'h2c' })],
      ['no Connection: Upgrade', request('GET', '/api/v1/namespaces/a/pods/p/exec', '', { upgrade: 'websocket' })],
      ['a WebSocket POST', request('POST', '/api/v1/namespaces/a/pods/p/exec', '', { ...WS_HEADERS, 'sec-websocket-protocol': 'v5.channel.k8s.io' })],
      ['no WebSocket key', request('GET', '/api/v1/namespaces/a/pods/p/exec', '', { ...WS_HEADERS, 'sec-websocket-key': 'short', 'sec-websocket-protocol': 'v5.channel.k8s.io' })],
      ['an old WebSocket version', request('GET', '/api/v1/namespaces/a/pods/p/exec', '', { ...WS_HEADERS, 'sec-websocket-version': '8', 'sec-websocket-protocol': 'v5.channel.k8s.io' })],
      ['no protocol the PEP reads', request('GET', '/api/v1/namespaces/a/pods/p/exec', '', { ...WS_HEADERS, 'sec-websocket-protocol': 'v6.channel.k8s.io' })],
      ['a base64 protocol over SPDY', request('POST', '/api/v1/namespaces/a/pods/p/exec', '', { ...SPDY_HEADERS, 'x-stream-protocol-version': 'v4.base64.channel.k8s.io' })],
      ['an exec protocol for a port-forward', request('POST', '/api/v1/namespaces/a/pods/p/portforward', '', { ...SPDY_HEADERS, 'x-stream-protocol-version': 'v4.channel.k8s.io' })],
    ];
    for (const [name, upgrade] of cases) assert.ok(isUpgradeRefusal(planUpgrade(upgrade)), name);
  });
});
