import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { JsonlAuditReader } from '../src/audit/verification/readers/jsonl-audit-reader.ts';
import type { StoredRecord } from '../src/audit/verification/readers/audit-reader.ts';

const directory = mkdtempSync(join(tmpdir(), 'portcullis-torn-reader-'));
after(() => rmSync(directory, { recursive: true, force: true }));

async function read(stream: 'sessions' | 'decisions'): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  for await (const record of new JsonlAuditReader(directory).read(stream)) records.push(record);
  return records;
}

describe('an unterminated last line in the JSONL reader', () => {
  test('is marked torn only at the end of the active file: the same bytes closing a rotated file are an unparseable record', async () => {
    writeFileSync(join(directory, 'sessions.000000000000001.jsonl'), '{"n":1}\n{"n":2,"cut');
    writeFileSync(join(directory, 'sessions.jsonl'), '{"n":3}\n{"n":4,"cut');
    const records = await read('sessions');
    assert.deepEqual(records.map(({ where, tornTail }) => [where, tornTail ?? false]), [
      ['sessions.000000000000001.jsonl line 1', false],
      ['sessions.000000000000001.jsonl line 2', false],
      ['sessions.jsonl line 1', false],
      ['sessions.jsonl line 2', true],
    ]);
    assert.deepEqual(records[1]!.record, { unparseable: '{"n":2,"cut' });
    assert.deepEqual(records[3]!.record, { unparseable: '{"n":4,"cut' });
  });

  test('a whole record missing only its newline is read as the record it is, and a file ending in a newline has no torn line', async () => {
    writeFileSync(join(directory, 'decisions.jsonl'), '{"n":1}\n{"n":2}');
    assert.deepEqual((await read('decisions')).map(({ record, tornTail }) => [record, tornTail ?? false]), [[{ n: 1 }, false], [{ n: 2 }, true]]);
    writeFileSync(join(directory, 'decisions.jsonl'), '{"n":1}\n{"n":2}\n');
    assert.deepEqual((await read('decisions')).map(({ record, tornTail }) => [record, tornTail ?? false]), [[{ n: 1 }, false], [{ n: 2 }, false]]);
  });
});
