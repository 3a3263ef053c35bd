// The one write the Redis store makes, as a Lua script so that the version check, the record,
// the pending index and the event happen together: two replicas can never both win one version.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

// KEYS: record, pending index, event log (a stream).
// ARGV: expected version (0: the record must not exist yet), record JSON, key expiry (unix ms),
//       pending-index score ('' removes it from the index), id, channel, event JSON (an object
//       without its id), event log length to keep.
// Returns the event's log id when written, 0 someone else wrote first, -1 the record is gone.
// The log entry and the published message carry the same id, so a reader that missed a
// message (a reconnect) reads the log from the last id it saw and misses nothing.
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
local eventId = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'e', ARGV[7])
redis.call('PUBLISH', ARGV[6], '{"id":"' .. eventId .. '",' .. string.sub(ARGV[7], 2))
return eventId
`;

const SHA = createHash('sha1').update(SOURCE).digest('hex');

export type WriteOutcome = { written: string } | 'conflict' | 'missing';

export interface ApprovalWrite {
  recordKey: string;
  pendingKey: string;
  logKey: string;
  logLength: number;
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
  const keys = [write.recordKey, write.pendingKey, write.logKey];
  const args = [
    String(write.expectedVersion),
    write.recordJson,
    String(write.keyExpiresAtMs),
    write.pendingScore === undefined ? '' : String(write.pendingScore),
    write.id,
    write.channel,
    write.eventJson,
    String(write.logLength),
  ];
  let reply: unknown;
  try {
    reply = await client.evalsha(SHA, keys.length, ...keys, ...args);
  } catch (error) {
    // A restarted or fresh Redis has an empty script cache: send the source once, it caches it.
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    reply = await client.eval(SOURCE, keys.length, ...keys, ...args);
  }
  if (typeof reply === 'string') return { written: reply };
  if (reply === 0) return 'conflict';
  if (reply === -1) return 'missing';
  throw new Error(`approval write script answered ${String(reply)}`);
}
