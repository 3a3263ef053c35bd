import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../../../test/support/pdp-harness.ts';
import { HttpPdpTransport } from '@portcullis/pep-core';
import { PdpSqlOutputsClient } from '../src/masking/sql-outputs-client.ts';
import { deadPort, scriptedServer } from '../../core/test/support/fault-servers.ts';

const json = (status: number, body: unknown): string => {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`;
};

describe('the SQL outputs client asks a real PDP what a SELECT is computed from', () => {
  let pdp: TestPdp;
  let transport: HttpPdpTransport;
  let client: PdpSqlOutputsClient;

  before(async () => {
    pdp = await startTestPdp();
    transport = new HttpPdpTransport({ url: pdp.url, pepToken: pdp.pepToken });
    client = new PdpSqlOutputsClient(transport);
  });
  after(async () => {
    transport.close();
    await pdp.close();
  });

  it("gets each column's sources and the functions called", async () => {
    const result = await client.outputsOf('SELECT users.name, upper(users.email) AS e FROM public.users');
    assert.equal(result.kind, 'analyzed');
    if (result.kind !== 'analyzed') return;
    assert.deepEqual(result.outputs.map((output) => (output as { derived_from: unknown }).derived_from), [
      [{ table: 'users', column: 'name' }],
      [{ table: 'users', column: 'email' }],
    ]);
    assert.deepEqual(result.functions, ['upper']);
  });

  it('is refused, for good, what is not one SELECT', async () => {
    for (const sql of ['SELECT 1; SELECT 2', 'DELETE FROM users', 'SELEC 1']) {
      const result = await client.outputsOf(sql);
      assert.equal(result.kind, 'refused', sql);
    }
  });

  it('is unavailable with a credential the PDP refuses, and never says why with the token', async () => {
    const agent = await pdp.token({ sub: 'agent-1', roles: ['reader'] });
    const wrong = new HttpPdpTransport({ url: pdp.url, pepToken: agent });
    try {
      const result = await new PdpSqlOutputsClient(wrong).outputsOf('SELECT 1');
      assert.equal(result.kind, 'unavailable');
      if (result.kind === 'unavailable') {
        assert.equal(result.code, 'pdp-refused');
        assert.ok(!result.detail.includes(agent));
      }
    } finally {
      wrong.close();
    }
  });
});

describe('the SQL outputs client names the resource it asks for', () => {
  let pdp: TestPdp;
  before(async () => {
    pdp = await startTestPdp();
  });
  after(() => pdp.close());

  it('is answered for a resource its credential fronts and refused (403) for another', async () => {
    const transport = new HttpPdpTransport({ url: pdp.url, pepToken: await pdp.pepTokenFor(['orders-db'], 'pep-orders-db') });
    try {
      const own = await new PdpSqlOutputsClient(transport, { type: 'postgres', name: 'orders-db' }).outputsOf('SELECT 1 AS one');
      assert.equal(own.kind, 'analyzed');
      const foreign = await new PdpSqlOutputsClient(transport, { type: 'postgres', name: 'billing-db' }).outputsOf('SELECT 1 AS one');
      assert.equal(foreign.kind, 'unavailable');
      if (foreign.kind === 'unavailable') assert.match(foreign.detail, /forbidden/);
    } finally {
      transport.close();
    }
  });
});

describe('the SQL outputs client when the PDP cannot answer usefully', () => {
  const ask = async (url: string) => {
    const transport = new HttpPdpTransport({ url, pepToken: 'pep-token', deadlineMs: 1000 });
    try {
      return await new PdpSqlOutputsClient(transport).outputsOf('SELECT 1');
    } finally {
      transport.close();
    }
  };

  it('is unavailable when nothing listens', async () => {
    const result = await ask(`http://127.0.0.1:${await deadPort()}`);
    assert.deepEqual(result.kind === 'unavailable' ? result.code : result.kind, 'pdp-unreachable');
  });

  for (const [name, reply, code] of [
    ['a 500', json(500, { code: 'internal', message: 'internal error' }), 'pdp-error'],
    ['an answer without outputs', json(200, { functions: [] }), 'pdp-bad-answer'],
    ['an answer without the functions called', json(200, { outputs: [] }), 'pdp-bad-answer'],
    ['functions that are not names', json(200, { outputs: [], functions: [7] }), 'pdp-bad-answer'],
  ] as const) {
    it(`is unavailable on ${name}`, async () => {
      const server = await scriptedServer(reply);
      try {
        const result = await ask(server.url);
        assert.deepEqual(result.kind === 'unavailable' ? result.code : result.kind, code);
      } finally {
        await server.close();
      }
    });
  }
});
