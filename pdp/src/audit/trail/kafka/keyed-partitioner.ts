import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from 'kafkajs';

/** Distinct (topic, partition count, key) answers kept; a producer writes a handful of keys. */
const MAX_REMEMBERED = 4096;

/**
 * kafkajs's default partitioner (murmur2 of the key, as Java clients place keyed records),
 * remembered per topic, partition count and key. Audit records are keyed by producer and stream,
 * so one PDP sends a handful of keys: the default computes the hash, and copies the partition
 * list, for every record; this does it once per key. Records without a key go to the default.
 */
export const rememberingKeyedPartitioner: ICustomPartitioner = () => {
  const partitionOf = Partitioners.DefaultPartitioner();
  const remembered = new Map<string, number>();
  return (args: PartitionerArgs): number => {
    const { key, partition } = args.message;
    if (partition !== undefined && partition !== null) return partition;
    if (typeof key !== 'string') return partitionOf(args);
    const id = `${args.topic}\u0000${args.partitionMetadata.length}\u0000${key}`;
    let chosen = remembered.get(id);
    if (chosen === undefined) {
      chosen = partitionOf(args);
      if (remembered.size < MAX_REMEMBERED) remembered.set(id, chosen);
    }
    return chosen;
  };
};
