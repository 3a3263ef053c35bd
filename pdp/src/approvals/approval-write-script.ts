// The one write the Redis store makes, as a Lua script so that the version check, the record,
// the pending index and the event happen together: two replicas can never both win one version.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

// KEYS: record, pending index.
// ARGV: expected version (0: the record must not exist yet), record JSON, key expiry (unix ms),
//       pending-index score ('' removes it from the index), id, channel, event JSON.
// Returns 1 written, 0 someone else wrote first, -1 the record is gone.
const SOURCE = `
local current = redis.call('GET', KEYS[1])
local expected = tonumber(ARGV[1])
if expected == 0 then
  if current then return 0 end
else
  if not current then return -1 end
  if cjson.decode(current)['version'] ~= expected then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
else
  redis.call('ZREM', KEYS[2], ARGV[5])
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
`;

const SHA = createHash('sha1').update(SOURCE).digest('hex');

export type WriteOutcome = 'written' | 'conflict' | 'missing';

export interface ApprovalWrite {
  recordKey: string;
  pendingKey: string;
  expectedVersion: number;
  recordJson: string;
  keyExpiresAtMs: number;
  /** Present while the record is pending. */
  pendingScore?: number;
  id: string;
  channel: string;
  eventJson: string;
}

export async function runApprovalWrite(client: Redis | Cluster, write: ApprovalWrite): Promise<WriteOutcome> {
  const keys = [write.recordKey, write.pendingKey];
  const args = [
    String(write.expectedVersion),
    write.recordJson,
    String(write.keyExpiresAtMs),
    write.pendingScore === undefined ? '' : String(write.pendingScore),
    write.id,
    write.channel,
    write.eventJson,
  ];
  let reply: unknown;
  try {
    reply = await client.evalsha(SHA, keys.length, ...keys, ...args);
  } catch (error) {
    // A restarted or fresh Redis has an empty script cache: send the source once, it caches it.
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    reply = await client.eval(SOURCE, keys.length, ...keys, ...args);
  }
  if (reply === 1) return 'written';
  if (reply === 0) return 'conflict';
  if (reply === -1) return 'missing';
  throw new Error(`approval write script answered ${String(reply)}`);
}
