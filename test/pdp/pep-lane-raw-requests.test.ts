import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';

/**
 * Raw requests (odd request targets, methods, bodies, pipelining) against a real PDP, whose PEP
 * routes are served in front of the Express app (pep-lane.ts) and mounted in it as well. Each row
 * says the answer the PDP gave before the lane existed — status, error code, the headers that
 * matter — and the one counter it adds: the lane must not change any of them.
 */

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Sends `text` as is on one connection and reads `answers` responses (Content-Length framed). */
function rawExchange(url: string, text: string, answers = 1): Promise<RawAnswer[]> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let buffer = Buffer.alloc(0);
    const parsed: RawAnswer[] = [];
    const headOnly: boolean[] = [...text.matchAll(/^([A-Z]+) \S+ HTTP\/1\.[01]\r\n/gm)].map((match) => match[1] === 'HEAD');
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
        const status = Number(lines[0]!.split(' ')[1]);
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        if (status === 100) {
          buffer = buffer.subarray(end + 4);
          continue;
        }
        const length = headOnly[parsed.length] ? 0 : Number(headers['content-length'] ?? 0);
        if (buffer.length < end + 4 + length) return;
        parsed.push({ status, headers, body: buffer.subarray(end + 4, end + 4 + length).toString('utf8') });
        buffer = buffer.subarray(end + 4 + length);
        if (parsed.length === answers) {
          socket.destroy();
          resolve(parsed);
          return;
        }
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed after ${parsed.length} of ${answers} answers`)));
    socket.write(text);
  });
}

interface Row {
  readonly name: string;
  readonly method: string;
  readonly target: string;
  readonly auth?: 'pep' | 'none';
  readonly body?: 'decision' | string;
  readonly type?: string;
  readonly extraHeaders?: string;
  readonly expect: { status: number; code?: string; allow?: string; json?: boolean; challenge?: boolean; pretty?: boolean; emptyBody?: boolean };
  /** The route label the one request adds to portcullis_http_requests_total. */
  readonly counted: string;
}

const rows: readonly Row[] = [
  { name: 'a decision', method: 'POST', target: '/v1/decisions', body: 'decision', expect: { status: 200, json: true }, counted: '/v1/decisions' },
  { name: 'a decision, absolute-form target', method: 'POST', target: 'http://pdp.example/v1/decisions', body: 'decision', expect: { status: 200, json: true }, counted: '/v1/decisions' },
  { name: 'a decision, target with a fragment', method: 'POST', target: '/v1/decisions#fragment', body: 'decision', expect: { status: 200, json: true }, counted: '/v1/decisions' },
  { name: 'a decision, trailing slash', method: 'POST', target: '/v1/decisions/', body: 'decision', expect: { status: 200, json: true }, counted: 'other' },
  { name: 'a decision without a token, other case', method: 'POST', target: '/V1/Decisions', auth: 'none', body: 'decision', expect: { status: 401, code: 'unauthenticated', challenge: true }, counted: 'other' },
  { name: 'a decision without a token, absolute-form', method: 'POST', target: 'http://pdp.example/v1/decisions?x=1', auth: 'none', body: 'decision', expect: { status: 401, code: 'unauthenticated', challenge: true }, counted: '/v1/decisions' },
  { name: 'double slash', method: 'POST', target: '//v1/decisions', body: 'decision', expect: { status: 404, code: 'not-found' }, counted: 'other' },
  { name: 'percent-encoded path', method: 'POST', target: '/v1/%64ecisions', body: 'decision', expect: { status: 404, code: 'not-found' }, counted: 'other' },
  { name: 'a ;param', method: 'POST', target: '/v1/decisions;x', body: 'decision', expect: { status: 404, code: 'not-found' }, counted: 'other' },
  { name: 'GET of the decision route', method: 'GET', target: '/v1/decisions', expect: { status: 405, code: 'method-not-allowed', allow: 'POST' }, counted: '/v1/decisions' },
  { name: 'HEAD of the decision route', method: 'HEAD', target: '/v1/decisions', expect: { status: 405, allow: 'POST', emptyBody: true }, counted: '/v1/decisions' },
  { name: 'PUT of the decision route, absolute-form', method: 'PUT', target: 'http://pdp.example/v1/decisions', body: 'decision', expect: { status: 405, code: 'method-not-allowed', allow: 'POST' }, counted: '/v1/decisions' },
  { name: 'OPTIONS of the decision route', method: 'OPTIONS', target: '/v1/decisions', auth: 'none', expect: { status: 405, code: 'method-not-allowed', allow: 'POST' }, counted: '/v1/decisions' },
  { name: 'OPTIONS of the SQL outputs route', method: 'OPTIONS', target: '/v1/sql/outputs', auth: 'none', expect: { status: 405, code: 'method-not-allowed', allow: 'POST' }, counted: '/v1/sql/outputs' },
  { name: 'OPTIONS of the session events route', method: 'OPTIONS', target: '/v1/sessions/events', auth: 'none', expect: { status: 401, code: 'unauthenticated', challenge: true }, counted: '/v1/sessions/events' },
  { name: 'OPTIONS of a Data API rule', method: 'OPTIONS', target: '/v1/data/portcullis/allow', auth: 'none', expect: { status: 404, code: 'not-found' }, counted: '/v1/data' },
  { name: 'OPTIONS of the Data API root', method: 'OPTIONS', target: '/v1/data', auth: 'none', expect: { status: 404, code: 'not-found' }, counted: '/v1/data' },
  { name: 'GET of session events (the console API)', method: 'GET', target: '/v1/sessions/events', expect: { status: 401, code: 'unauthenticated' }, counted: '/v1/sessions/events' },
  { name: 'Data API GET without a token', method: 'GET', target: '/v1/data/portcullis/x', auth: 'none', expect: { status: 401, code: 'unauthorized', challenge: true }, counted: '/v1/data' },
  { name: 'Data API HEAD without a token', method: 'HEAD', target: '/v1/data/portcullis/x', auth: 'none', expect: { status: 401, challenge: true, emptyBody: true }, counted: '/v1/data' },
  { name: 'Data API GET, absolute-form without a token', method: 'GET', target: 'http://pdp.example/v1/data/portcullis/x', auth: 'none', expect: { status: 401, code: 'unauthorized' }, counted: '/v1/data' },
  { name: 'Data API pretty, target with a fragment', method: 'GET', target: '/v1/data/portcullis/x?pretty#fragment', expect: { status: 200, pretty: true }, counted: '/v1/data' },
  { name: 'Data API pretty, absolute-form', method: 'GET', target: 'http://pdp.example/v1/data/portcullis/x?pretty', expect: { status: 200, pretty: true }, counted: '/v1/data' },
  { name: 'Data API without a rule', method: 'POST', target: '/v1/data', body: '{}', expect: { status: 400, code: 'invalid_parameter' }, counted: '/v1/data' },
  { name: 'a decision in XML', method: 'POST', target: '/v1/decisions', body: '{}', type: 'application/xml', expect: { status: 415, code: 'unsupported-media-type' }, counted: '/v1/decisions' },
  { name: 'a declared body over the limit', method: 'POST', target: '/v1/decisions', extraHeaders: 'Content-Type: application/json\r\nContent-Length: 99999999\r\n', expect: { status: 413, code: 'payload-too-large' }, counted: '/v1/decisions' },
  { name: 'Expect: 100-continue without a token', method: 'POST', target: '/v1/sessions/events', auth: 'none', body: '{}', extraHeaders: 'Expect: 100-continue\r\n', expect: { status: 401, code: 'unauthenticated' }, counted: '/v1/sessions/events' },
  { name: 'an unknown route', method: 'POST', target: '/v1/no-such-route', body: '{}', expect: { status: 404, code: 'not-found' }, counted: 'other' },
];

describe('raw requests to the PEP routes answer and count as before the PEP lane', () => {
  let pdp: TestPdp;
  let agent: string;
  before(async () => {
    pdp = await startTestPdp();
    agent = await pdp.token({ sub: 'agent-raw', roles: ['reader'] });
  });
  after(() => pdp.close());

  const counters = async (): Promise<Map<string, number>> => {
    const counts = new Map<string, number>();
    for (const line of (await pdp.metrics()).split('\n')) {
      const match = /^portcullis_http_requests_total\{route="([^"]*)",status="(\d+)"\} (\d+)$/.exec(line);
      if (match && match[1] !== '/metrics') counts.set(`${match[1]} ${match[2]}`, Number(match[3]));
    }
    return counts;
  };
  const added = (before: Map<string, number>, now: Map<string, number>): string[] =>
    [...now].flatMap(([key, count]) => Array(count - (before.get(key) ?? 0)).fill(key) as string[]).sort();

  const requestText = (row: Row, connection: 'close' | 'keep-alive'): string => {
    const body = row.body === 'decision'
      ? JSON.stringify({ subject_token: agent, resource: { type: 'postgres', name: 'orders-db' }, action: { type: 'sql', sql: 'SELECT 1' } })
      : row.body;
    const auth = (row.auth ?? 'pep') === 'pep' ? `Authorization: Bearer ${pdp.pepToken}\r\n` : '';
    const bodyHeaders = body === undefined ? '' : `Content-Type: ${row.type ?? 'application/json'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    return `${row.method} ${row.target} HTTP/1.1\r\nHost: pdp.example\r\n${auth}${bodyHeaders}${row.extraHeaders ?? ''}Connection: ${connection}\r\n\r\n${body ?? ''}`;
  };

  for (const row of rows) {
    it(`${row.name}: ${row.method} ${row.target} → ${row.expect.status}${row.expect.code ? ` ${row.expect.code}` : ''}, counted as ${row.counted}`, async () => {
      const before = await counters();
      const [answer] = await rawExchange(pdp.url, requestText(row, 'close'));
      const { expect } = row;
      assert.equal(answer!.status, expect.status, answer!.body);
      if (!expect.emptyBody) assert.equal(answer!.headers['content-type'], 'application/json; charset=utf-8');
      if (expect.emptyBody) assert.equal(answer!.body, '');
      if (expect.code !== undefined) assert.equal((JSON.parse(answer!.body) as { code: string }).code, expect.code);
      assert.equal(answer!.headers.allow, expect.allow);
      if (expect.challenge) assert.match(answer!.headers['www-authenticate'] ?? '', /^Bearer realm="portcullis"/);
      if (expect.pretty !== undefined) assert.equal(answer!.body.startsWith('{\n  "decision_id": '), expect.pretty, answer!.body);
      assert.deepEqual(added(before, await counters()), [`${row.counted} ${expect.status}`]);
    });
  }

  it('answers pipelined requests in order, whichever of the lane and the app serves each, counting each once', async () => {
    const sequence = ['a decision', 'PUT of the decision route, absolute-form', 'Data API GET without a token', 'a declared body over the limit', 'OPTIONS of the decision route', 'an unknown route']
      .map((name) => rows.find((row) => row.name === name)!);
    // The body over the limit is declared but not sent: it goes last but one, with the connection closed after it.
    const ordered = [...sequence.filter((row) => row.name !== 'a declared body over the limit'), sequence.find((row) => row.name === 'a declared body over the limit')!];
    const before = await counters();
    const text = ordered.map((row, index) => requestText(row, index === ordered.length - 1 ? 'close' : 'keep-alive')).join('');
    const answers = await rawExchange(pdp.url, text, ordered.length);
    assert.deepEqual(answers.map((answer) => answer.status), ordered.map((row) => row.expect.status));
    assert.deepEqual(added(before, await counters()), ordered.map((row) => `${row.counted} ${row.expect.status}`).sort());
  });
});
