// The gateway's own view of a server's tools: every page listed, annotations reduced to the
// contract's, read again after the server says its list changed, and a failed listing not kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toolAnnotations } from '../src/calls/tool-annotations.ts';
import type { JsonRpcResponse } from '../src/jsonrpc/json-rpc-message.ts';
import { ToolCatalog } from '../src/session/tool-catalog.ts';

/** A server's tools/list answers as the gateway receives them: pages by cursor, and what it lists can change. */
function listing(pages: Record<string, { tools: unknown[]; nextCursor?: string }>) {
  const calls: (string | undefined)[] = [];
  const list = async (cursor: string | undefined): Promise<JsonRpcResponse> => {
    calls.push(cursor);
    const page = pages[cursor ?? ''];
    if (page === undefined) return { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad cursor' } };
    return { jsonrpc: '2.0', id: 1, result: page };
  };
  return { list, calls };
}

describe('the tool catalog', () => {
  it('follows every page, and answers from what it listed until told the list changed', async () => {
    const pages: Record<string, { tools: unknown[]; nextCursor?: string }> = { '': { tools: [{ name: 'read', annotations: { readOnlyHint: true } }], nextCursor: 'p2' }, p2: { tools: [{ name: 'drop', annotations: { destructiveHint: true } }] } };
    const { list, calls } = listing(pages);
    const catalog = new ToolCatalog(list);
    assert.deepEqual(await catalog.tool('drop'), { name: 'drop', annotations: { destructiveHint: true } });
    assert.deepEqual(await catalog.tool('read'), { name: 'read', annotations: { readOnlyHint: true } });
    assert.equal(await catalog.tool('absent'), undefined);
    assert.deepEqual(calls, [undefined, 'p2'], 'listed once');

    pages['']!.tools.push({ name: 'added' });
    assert.equal(await catalog.tool('added'), undefined, 'not until the server says so');
    catalog.invalidate();
    assert.deepEqual(await catalog.tool('added'), { name: 'added' });
    assert.equal(calls.length, 4);
  });

  it('does not keep a failed listing: the next call lists again', async () => {
    let fail = true;
    const catalog = new ToolCatalog(async () => {
      if (fail) throw new Error('server away');
      return { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'read' }] } };
    });
    await assert.rejects(catalog.tool('read'), /server away/);
    fail = false;
    assert.deepEqual(await catalog.tool('read'), { name: 'read' });
  });

  it('keeps of a tool\'s annotations only the contract\'s hints and title', () => {
    assert.deepEqual(toolAnnotations({ title: 'Drop', destructiveHint: true, readOnlyHint: 'yes', vendorHint: true, idempotentHint: false }), { title: 'Drop', destructiveHint: true, idempotentHint: false });
    assert.equal(toolAnnotations({ vendorHint: true }), undefined);
    assert.equal(toolAnnotations('read-only'), undefined);
    assert.equal(toolAnnotations({ title: 'x'.repeat(1000) })!.title!.length, 256);
  });
});
