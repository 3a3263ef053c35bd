import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readHostAddress, type HostAddress } from '../src/enrichment/network/host-address.ts';
import { enrichNetworkAction } from '../src/enrichment/network/network-action-reader.ts';

function address(host: string, listening = false): HostAddress {
  const reading = readHostAddress(host, listening);
  assert.ok(reading.ok, `refused ${JSON.stringify(host)}: ${reading.ok ? '' : reading.problem}`);
  return reading.address;
}

function refusal(host: string): string {
  const reading = readHostAddress(host, false);
  assert.equal(reading.ok, false, `accepted ${JSON.stringify(host)}`);
  return reading.ok ? '' : reading.problem;
}

describe('forwarding hosts as the resolver reads them', () => {
  it('reads every inet_aton spelling of an IPv4 address as its dotted quad', () => {
    for (const host of ['127.0.0.1', '127.1', '127.0.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '0x7f000001', '017700000001']) {
      assert.deepEqual(address(host), { kind: 'ipv4', value: '127.0.0.1', scope: 'loopback' }, host);
    }
    assert.deepEqual(address('169.254.169.254'), { kind: 'ipv4', value: '169.254.169.254', scope: 'link-local' });
    assert.deepEqual(address('0xa9fea9fe'), { kind: 'ipv4', value: '169.254.169.254', scope: 'link-local' });
  });

  it('places IPv4 addresses: private, unspecified, multicast, reserved, public', () => {
    assert.equal(address('10.1.2.3').scope, 'private');
    assert.equal(address('172.31.0.1').scope, 'private');
    assert.equal(address('172.32.0.1').scope, 'public');
    assert.equal(address('192.168.0.1').scope, 'private');
    assert.equal(address('100.64.0.1').scope, 'private');
    assert.equal(address('0.0.0.0').scope, 'unspecified');
    assert.equal(address('224.0.0.1').scope, 'multicast');
    assert.equal(address('255.255.255.255').scope, 'reserved');
    assert.equal(address('8.8.8.8').scope, 'public');
  });

  it('refuses numbers the resolver would not read as one address', () => {
    for (const host of ['256.1.1.1', '08.0.0.1', '1.2.3.4.5', '4294967296', '1.2.65536', '0x']) {
      assert.match(refusal(host), /numeric address/, host);
    }
  });

  it('reads IPv6 in its compressed form, and IPv4 inside IPv6 as the IPv4 host it reaches', () => {
    assert.deepEqual(address('[::1]'), { kind: 'ipv6', value: '::1', scope: 'loopback' });
    assert.deepEqual(address('0:0:0:0:0:0:0:1'), { kind: 'ipv6', value: '::1', scope: 'loopback' });
    assert.deepEqual(address('FE80::1'), { kind: 'ipv6', value: 'fe80::1', scope: 'link-local' });
    assert.deepEqual(address('fd00::5'), { kind: 'ipv6', value: 'fd00::5', scope: 'private' });
    assert.deepEqual(address('::'), { kind: 'ipv6', value: '::', scope: 'unspecified' });
    assert.deepEqual(address('2001:db8::1'), { kind: 'ipv6', value: '2001:db8::1', scope: 'public' });
    assert.deepEqual(address('::ffff:127.0.0.1'), { kind: 'ipv4', value: '127.0.0.1', scope: 'loopback' });
    assert.deepEqual(address('[::ffff:a9fe:a9fe]'), { kind: 'ipv4', value: '169.254.169.254', scope: 'link-local' });
    assert.match(refusal('fe80::1%eth0'), /zone/);
    assert.match(refusal('[db.internal]'), /brackets/);
    assert.match(refusal('1:2:3'), /not an IPv6 address/);
  });

  it('reads names case-insensitively without the final dot; localhost is loopback', () => {
    assert.deepEqual(address('DB.Internal.'), { kind: 'name', value: 'db.internal', scope: 'name' });
    assert.deepEqual(address('LocalHost'), { kind: 'name', value: 'localhost', scope: 'loopback' });
    assert.deepEqual(address('x.localhost.'), { kind: 'name', value: 'x.localhost', scope: 'loopback' });
    for (const host of ['db internal', 'db..internal', 'bücher.de', '-x.com', 'a/b', 'x.123']) assert.ok(refusal(host), host);
  });

  it('takes "" and * as every address only for a listener', () => {
    assert.deepEqual(address('', true), { kind: 'any', value: '', scope: 'any' });
    assert.deepEqual(address('*', true), { kind: 'any', value: '', scope: 'any' });
    assert.match(refusal(''), /empty/);
  });
});

describe('the enriched network action', () => {
  it('carries the address as read beside the host as sent', () => {
    assert.deepEqual(enrichNetworkAction({ type: 'network', direction: 'outbound', host: '0x7f.1', port: 6379 }), {
      type: 'network',
      direction: 'outbound',
      transport: 'tcp',
      host: '0x7f.1',
      port: 6379,
      address: { kind: 'ipv4', value: '127.0.0.1', scope: 'loopback' },
      parse_error: null,
    });
  });

  it('normalises a Unix socket path as a file path', () => {
    const enriched = enrichNetworkAction({ type: 'network', direction: 'outbound', transport: 'unix', socket_path: '/run//docker.sock' });
    assert.equal(enriched.socket_path, '/run/docker.sock');
    assert.equal(enriched.parse_error, null);
    assert.match(enrichNetworkAction({ type: 'network', direction: 'outbound', transport: 'unix', socket_path: 'docker.sock' }).parse_error ?? '', /^socket_path is relative/);
  });

  it('is a parse_error when the host, port or socket cannot be read', () => {
    assert.match(enrichNetworkAction({ type: 'network', direction: 'outbound', host: 'x y', port: 1 }).parse_error ?? '', /^host is not a DNS name/);
    assert.match(enrichNetworkAction({ type: 'network', direction: 'outbound', host: 'x', port: 0 }).parse_error ?? '', /port 0/);
    assert.match(enrichNetworkAction({ type: 'network', direction: 'outbound', host: 'x' }).parse_error ?? '', /port is required/);
    assert.match(enrichNetworkAction({ type: 'network', direction: 'inbound', transport: 'unix' }).parse_error ?? '', /socket_path is required/);
    assert.equal(enrichNetworkAction({ type: 'network', direction: 'inbound', host: '', port: 0 }).parse_error, null);
  });
});
