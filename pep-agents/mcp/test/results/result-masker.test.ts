// What an MCP result looks like after masking: structured results and JSON text by the
// obligations' paths, text by detectors, what no mask reaches withheld, and the count of it all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMaskStrategyRegistry, parseMaskHashKey, type ByteStreamMaskV1, type JsonPathMaskV1 } from '@portcullis/pep-core';
import type { McpMask } from '../../src/calls/mcp-masks.ts';
import { ResultMasker } from '../../src/results/result-masker.ts';
import { UnreadableResultError } from '../../src/results/unreadable-result-error.ts';

const masker = new ResultMasker({ strategies: createMaskStrategyRegistry() });
const path = (p: string, strategy = 'redact'): JsonPathMaskV1 => ({ kind: 'json-path', path: p, strategy });
const detectors = (names: string[], strategy = 'redact'): ByteStreamMaskV1 => ({ kind: 'byte-stream', detectors: names, strategy });
const call = (method: string) => ({ action: { method } });
const answer = (mask: McpMask[], unmasked = true) => ({ obligations: { mask, record: true, unmasked } });

const EMAIL = 'ann.lee@example.com';
const CARD = '4111 1111 1111 1111';
const rows = { rows: [{ id: 1, email: EMAIL, name: 'Ann' }, { id: 2, email: 'bo@example.org', name: 'Bo' }] };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('ResultMasker.canMask', () => {
  it('takes json-path and byte-stream obligations it can read, on the methods whose results carry data', () => {
    assert.equal(masker.canMask([], call('tools/list')), true);
    assert.equal(masker.canMask([path('$.rows[*].email'), detectors(['email', 'iban'])], call('tools/call')), true);
    assert.equal(masker.canMask([path('$..email')], call('resources/read')), true);
    assert.equal(masker.canMask([detectors(['phone'])], call('prompts/get')), true);
  });

  it('refuses what it cannot honour: a filter path, an unknown detector, a SQL column mask, masks on a method without data', () => {
    assert.equal(masker.canMask([path("$.rows[?@.email == 'x']")], call('tools/call')), false);
    assert.equal(masker.canMask([detectors(['passport-number'])], call('tools/call')), false);
    assert.equal(masker.canMask([{ table: 'users', column: 'email', strategy: 'redact' } as unknown as McpMask], call('tools/call')), false);
    assert.equal(masker.canMask([path('$.rows')], call('tools/list')), false);
    assert.equal(masker.canMask([detectors(['email'])], call('sampling/createMessage')), false);
  });
});

describe('tools/call results', () => {
  it('masks structuredContent and the JSON text beside it by the paths, counting each value', () => {
    const result = { content: [{ type: 'text', text: JSON.stringify(rows, null, 2) }], structuredContent: rows };
    const { result: out, masked } = masker.mask('tools/call', result, answer([path('$.rows[*].email')])) as { result: any; masked: number };
    assert.deepEqual(out.structuredContent.rows.map((row: any) => row.email), ['****', '****']);
    assert.equal(out.structuredContent.rows[0].name, 'Ann');
    const text = JSON.parse(out.content[0].text);
    assert.deepEqual(text.rows.map((row: any) => row.email), ['****', '****']);
    assert.equal(out.content[0].text, JSON.stringify(text, null, 2), 'written again with the server\'s indentation');
    assert.equal(masked, 4);
    assert.equal(JSON.stringify(out).includes(EMAIL), false);
    assert.equal(result.structuredContent.rows[0]!.email, EMAIL, 'the given result is not changed');
  });

  it('applies the strategy the obligation names (hash with a key gives stable pseudonyms)', () => {
    const hashing = new ResultMasker({ strategies: createMaskStrategyRegistry({ hashKey: parseMaskHashKey('ab'.repeat(32)) }) });
    const { result: out } = hashing.mask('tools/call', { content: [], structuredContent: rows }, answer([path('$.rows[*].email', 'hash')])) as { result: any };
    const [first, second] = out.structuredContent.rows.map((row: any) => row.email);
    assert.match(first, /^h:[0-9a-f]{16}$/);
    assert.notEqual(first, second);
    const again = hashing.mask('tools/call', { content: [], structuredContent: rows }, answer([path('$.rows[*].email', 'hash')])) as { result: any };
    assert.equal(again.result.structuredContent.rows[0].email, first);
  });

  it('writes a JSON text again from what was parsed, so a member given twice cannot carry a value past the paths', () => {
    const sneaky = `{"rows":[{"email":"${EMAIL}"}],"rows":[]}`;
    const { result: out } = masker.mask('tools/call', { content: [{ type: 'text', text: sneaky }] }, answer([path('$.rows[*].email')])) as { result: any };
    assert.equal(out.content[0].text, '{"rows":[]}');
  });

  it('withholds text that is not JSON, images and audio when paths apply; leaves resource links', () => {
    const result = {
      content: [
        { type: 'text', text: `Ann's address is ${EMAIL}` },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
        { type: 'resource_link', uri: 'file:///data/users.csv', name: 'users.csv' },
      ],
      structuredContent: rows,
    };
    const { result: out, masked } = masker.mask('tools/call', result, answer([path('$.rows[*].email')])) as { result: any; masked: number };
    assert.equal(out.content[0].type, 'text');
    assert.match(out.content[0].text, /text that is not JSON withheld/);
    assert.match(out.content[1].text, /image content withheld/);
    assert.match(out.content[2].text, /audio content withheld/);
    assert.deepEqual(out.content[3], result.content[3]);
    assert.equal(masked, 2 + 3);
    assert.equal(JSON.stringify(out).includes(PNG), false);
  });

  it('replaces what detectors find in text, leaving the rest, and withholds images under them too', () => {
    const result = {
      content: [
        { type: 'text', text: `write to ${EMAIL}, pay with ${CARD}, 3 items` },
        { type: 'image', data: PNG, mimeType: 'image/png' },
      ],
      isError: false,
    };
    const { result: out, masked } = masker.mask('tools/call', result, answer([detectors(['email', 'credit-card'])])) as { result: any; masked: number };
    assert.equal(out.content[0].text, 'write to ****, pay with ****, 3 items');
    assert.match(out.content[1].text, /image content withheld/);
    assert.equal(out.isError, false);
    assert.equal(masked, 3);
  });

  it('scrubs personal data by its shape for a principal policy does not let read it in clear, images untouched', () => {
    const result = { content: [{ type: 'text', text: `owner ${EMAIL}` }, { type: 'image', data: PNG, mimeType: 'image/png' }], structuredContent: { owner: EMAIL, count: 2 } };
    const { result: out, masked } = masker.mask('tools/call', result, answer([], false)) as { result: any; masked: number };
    assert.equal(out.content[0].text, 'owner <EMAIL_ADDRESS>');
    assert.deepEqual(out.content[1], result.content[1]);
    assert.deepEqual(out.structuredContent, { owner: '<EMAIL_ADDRESS>', count: 2 });
    assert.equal(masked, 2);
  });

  it('scrubs member names too (maps keyed by personal data), keeping members that mask alike apart', () => {
    const byOwner = { [EMAIL]: { orders: 2 }, 'bo@example.org': { orders: 5 }, total: 7 };
    const { result: out, masked } = masker.mask('tools/call', { content: [], structuredContent: byOwner }, answer([detectors(['email'])])) as { result: any; masked: number };
    assert.deepEqual(out.structuredContent, { '****': { orders: 2 }, '**** 2': { orders: 5 }, total: 7 });
    assert.equal(masked, 2);
  });

  it('returns the very result when nothing applies (no obligations, principal reads in clear)', () => {
    const result = { content: [{ type: 'text', text: EMAIL }] };
    const out = masker.mask('tools/call', result, answer([], true));
    assert.equal(out.result, result);
    assert.equal(out.masked, 0);
  });

  it('keeps a JSON text as the server wrote it when the detectors find nothing in it', () => {
    const text = '{\n    "name": "portcullis",\n    "version": "1.0.0"\n}\n';
    const { result: out } = masker.mask('tools/call', { content: [{ type: 'text', text }] }, answer([], false)) as { result: any };
    assert.equal(out.content[0].text, text);
  });

  it('finds values a JSON text escapes, and writes it again without them', () => {
    const text = '{"owner":"ann.lee\\u0040example.com"}';
    const { result: out, masked } = masker.mask('tools/call', { content: [{ type: 'text', text }] }, answer([detectors(['email'])])) as { result: any; masked: number };
    assert.equal(out.content[0].text, '{"owner":"****"}');
    assert.equal(masked, 1);
  });

  it('masks the text of an embedded resource and withholds an embedded blob', () => {
    const result = {
      content: [
        { type: 'resource', resource: { uri: 'file:///notes.txt', mimeType: 'text/plain', text: `call ${EMAIL}` } },
        { type: 'resource', resource: { uri: 'file:///photo.png', mimeType: 'image/png', blob: PNG } },
      ],
    };
    const { result: out, masked } = masker.mask('tools/call', result, answer([detectors(['email'])])) as { result: any; masked: number };
    assert.equal(out.content[0].resource.text, 'call ****');
    assert.equal(out.content[1].resource.uri, 'file:///photo.png');
    assert.equal(out.content[1].resource.blob, undefined);
    assert.match(out.content[1].resource.text, /binary content withheld/);
    assert.equal(masked, 2);
  });

  it('masks a JSON document a server repeats as a string in structuredContent (a file read) like the text beside it', () => {
    const file = `${JSON.stringify(rows, null, 2)}\n`;
    const result = { content: [{ type: 'text', text: file }], structuredContent: { content: file } };
    const { result: out, masked } = masker.mask('tools/call', result, answer([path('$.rows[*].email')])) as { result: any; masked: number };
    assert.equal(out.structuredContent.content, out.content[0].text);
    assert.deepEqual(JSON.parse(out.content[0].text).rows.map((row: any) => row.email), ['****', '****']);
    assert.ok(out.content[0].text.endsWith('}\n'));
    assert.equal(masked, 4);
  });

  it('withholds a text that is not JSON where the server repeats it in structuredContent too', () => {
    const csv = `id,email\n1,${EMAIL}\n`;
    const { result: out, masked } = masker.mask('tools/call', { content: [{ type: 'text', text: csv }], structuredContent: { content: csv, lines: 2 } }, answer([path('$.rows[*].email')])) as { result: any; masked: number };
    assert.match(out.content[0].text, /withheld/);
    assert.match(out.structuredContent.content, /withheld/);
    assert.equal(out.structuredContent.lines, 2);
    assert.equal(masked, 2);
  });

  it('withholds images a server repeats in structuredContent under obligations, and leaves their data alone otherwise', () => {
    const image = { type: 'image', data: `+1234567890${PNG}`, mimeType: 'image/png' };
    const result = { content: [image], structuredContent: { content: [image] } };
    const { result: out } = masker.mask('tools/call', result, answer([detectors(['email'])])) as { result: any };
    assert.equal(JSON.stringify(out).includes(PNG), false);
    assert.match(out.structuredContent.content[0].text, /image content withheld/);
    const clear = masker.mask('tools/call', result, answer([], false)) as { result: any };
    assert.deepEqual(clear.result.structuredContent.content[0], image);
  });

  it('drops members MCP does not define, which could carry what the masks hide, and scrubs _meta and descriptions', () => {
    const result = {
      content: [
        { type: 'text', text: 'fine', note: EMAIL, annotations: { priority: 1 } },
        { type: 'resource_link', uri: 'file:///a', name: 'a', description: `owned by ${EMAIL}`, extra: EMAIL },
      ],
      _meta: { owner: EMAIL },
      leaked: EMAIL,
    };
    const { result: out } = masker.mask('tools/call', result, answer([detectors(['email'])])) as { result: any };
    assert.deepEqual(out, {
      content: [
        { type: 'text', text: 'fine', annotations: { priority: 1 } },
        { type: 'resource_link', uri: 'file:///a', name: 'a', description: 'owned by ****' },
      ],
      _meta: { owner: '****' },
    });
    const prompt = masker.mask('prompts/get', { description: `for ${EMAIL}`, messages: [{ role: 'user', content: { type: 'text', text: 'hi' }, secret: EMAIL }] }, answer([], false)) as { result: any };
    assert.deepEqual(prompt.result, { description: 'for <EMAIL_ADDRESS>', messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }] });
  });

  it('refuses a result not in the shape of a tool result when something must be masked', () => {
    assert.throws(() => masker.mask('tools/call', { content: 'nope' }, answer([detectors(['email'])])), UnreadableResultError);
    assert.throws(() => masker.mask('tools/call', { content: [{ text: EMAIL }] }, answer([detectors(['email'])])), UnreadableResultError);
    assert.throws(() => masker.mask('tools/call', { content: [], structuredContent: [EMAIL] as unknown as Record<string, unknown> }, answer([path('$[0]')])), UnreadableResultError);
  });
});

describe('resources/read and prompts/get results', () => {
  it('masks resource contents: JSON text by the paths, other text withheld, blobs withheld', () => {
    const result = {
      contents: [
        { uri: 'db://users', mimeType: 'application/json', text: JSON.stringify(rows) },
        { uri: 'db://readme', mimeType: 'text/plain', text: `ask ${EMAIL}` },
        { uri: 'db://dump', mimeType: 'application/octet-stream', blob: 'AAEC' },
      ],
    };
    const { result: out, masked } = masker.mask('resources/read', result, answer([path('$.rows[*].email')])) as { result: any; masked: number };
    assert.deepEqual(JSON.parse(out.contents[0].text).rows.map((row: any) => row.email), ['****', '****']);
    assert.equal(out.contents[1].uri, 'db://readme');
    assert.match(out.contents[1].text, /withheld/);
    assert.equal(out.contents[2].blob, undefined);
    assert.equal(out.contents[2].mimeType, 'text/plain');
    assert.equal(masked, 4);
  });

  it("masks each prompt message's content", () => {
    const result = {
      description: 'a prompt',
      messages: [
        { role: 'user', content: { type: 'text', text: `Summarise the account of ${EMAIL}` } },
        { role: 'assistant', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      ],
    };
    const { result: out, masked } = masker.mask('prompts/get', result, answer([detectors(['email'])])) as { result: any; masked: number };
    assert.equal(out.messages[0].content.text, 'Summarise the account of ****');
    assert.equal(out.messages[0].role, 'user');
    assert.match(out.messages[1].content.text, /image content withheld/);
    assert.equal(out.description, 'a prompt');
    assert.equal(masked, 2);
  });

  it('leaves results of methods that carry no data alone', () => {
    const tools = { tools: [{ name: 'send_mail', description: `mails ${EMAIL}` }] };
    assert.equal(masker.mask('tools/list', tools, answer([], false)).result, tools);
  });
});

describe('what the server sends beside a masked result', () => {
  it('withholds its error message under paths, scrubs it under detectors, leaves it for a principal reading in clear', () => {
    const error = { code: -32000, message: `duplicate key (email)=(${EMAIL})`, data: { detail: EMAIL } };
    const underPaths = masker.maskError(error, answer([path('$.rows[*].email')]));
    assert.equal(underPaths.error.code, -32000);
    assert.doesNotMatch(JSON.stringify(underPaths.error), /ann\.lee/);
    assert.match(underPaths.error.message, /error message withheld/);
    const underDetectors = masker.maskError(error, answer([], false));
    assert.deepEqual(underDetectors.error, { code: -32000, message: 'duplicate key (email)=(<EMAIL_ADDRESS>)', data: { detail: '<EMAIL_ADDRESS>' } });
    assert.equal(underDetectors.masked, 2);
    assert.equal(masker.maskError(error, answer([], true)).error, error);
  });

  it('masks log data and progress messages of the call', () => {
    const log = { method: 'notifications/message', params: { level: 'info', logger: 'db', data: { query: 'select', owner: EMAIL } } };
    const scrubbed = masker.maskNotification(log, answer([detectors(['email'])]));
    assert.deepEqual(scrubbed.notification.params, { level: 'info', logger: 'db', data: { query: 'select', owner: '****' } });
    assert.equal(scrubbed.masked, 1);
    const withheld = masker.maskNotification(log, answer([path('$..owner')]));
    assert.equal(withheld.notification.params?.level, 'info');
    assert.doesNotMatch(JSON.stringify(withheld.notification), /ann\.lee/);

    const progress = { method: 'notifications/progress', params: { progressToken: 7, progress: 2, message: `mailed ${EMAIL}` } };
    assert.deepEqual(masker.maskNotification(progress, answer([], false)).notification.params, { progressToken: 7, progress: 2, message: 'mailed <EMAIL_ADDRESS>' });
    assert.deepEqual(masker.maskNotification(progress, answer([path('$.x')])).notification.params, { progressToken: 7, progress: 2 });
    const listChanged = { method: 'notifications/tools/list_changed' };
    assert.equal(masker.maskNotification(listChanged, answer([path('$.x')])).notification, listChanged);
  });
});
