import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { rememberingKeyedPartitioner } from '../src/audit/trail/kafka/keyed-partitioner.ts';

const metadata = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: leaderless.includes(partitionId) ? -1 : 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

describe('the remembering keyed partitioner', () => {
  test('places every keyed record where kafkajs\'s default (Java-compatible) partitioner does, the first time and every time after', () => {
    const remembering = rememberingKeyedPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    for (const count of [1, 2, 3, 6, 12]) {
      for (let index = 0; index < 200; index += 1) {
        const key = `pdp-host-${index}:${['decisions', 'sessions', 'approvals', 'shadow', 'digests'][index % 5]}`;
        const args = { topic: `portcullis.t${index % 3}.v1`, partitionMetadata: metadata(count), message: { key, value: 'x' } };
        const expected = reference(args);
        assert.equal(remembering(args), expected, `${key} over ${count} partitions`);
        assert.equal(remembering(args), expected, `${key} over ${count} partitions, remembered`);
      }
    }
  });

  test('a topic that gains partitions is placed anew: the count is part of what is remembered', () => {
    const remembering = rememberingKeyedPartitioner();
    const reference = Partitioners.DefaultPartitioner();
    const moved = Array.from({ length: 50 }, (_, index) => `key-${index}`).find((key) => {
      const one = reference({ topic: 't', partitionMetadata: metadata(3), message: { key, value: null } });
      return one !== reference({ topic: 't', partitionMetadata: metadata(7), message: { key, value: null } });
    })!;
    const before = remembering({ topic: 't', partitionMetadata: metadata(3), message: { key: moved, value: null } });
    const after = remembering({ topic: 't', partitionMetadata: metadata(7), message: { key: moved, value: null } });
    assert.notEqual(before, after);
    assert.equal(after, reference({ topic: 't', partitionMetadata: metadata(7), message: { key: moved, value: null } }));
  });

  test('an explicit partition is kept, and a record without a key goes round the partitions that have a leader', () => {
    const remembering = rememberingKeyedPartitioner();
    assert.equal(remembering({ topic: 't', partitionMetadata: metadata(4), message: { key: 'k', value: null, partition: 2 } }), 2);
    const chosen = new Set(Array.from({ length: 20 }, () => remembering({ topic: 't', partitionMetadata: metadata(4, [1]), message: { value: 'v' } })));
    assert.deepEqual([...chosen].sort(), [0, 2, 3]);
  });
});
