// The one write the Redis store makes, as a Lua script so that the version check, the deadline,
// the record, the indexes and the event happen together: two replicas can never both win one
// version, and no write lands after the instant its transition stops holding. Time is Redis's
// own (TIME on the node that holds the keys): every replica judges expiry by one clock.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

// KEYS: record, pending index, event log (a stream), the pending-by-binding key of this record's
//       binding, this requester's pending set, and (optional) the granted set of this record's binding.
// ARGV: 1 expected version (0: the record must not exist yet), 2 record JSON, 3 key expiry (unix
//       ms), 4 pending-index score ('' when it leaves or is not pending), 5 id, 6 channel, 7 event
//       JSON (an object without its id), 8 event log length to keep, 9 deadline (unix ms; '' none),
//       10 most pending records one requester may hold ('' no bound; a create only), 11 until when
//       the record is usable as a granted per-command approval (unix ms; '' when it is not one).
// Returns the event's log id when written, 0 someone else wrote first, -1 the record is gone,
// -2 the deadline has passed, {'joined', id} a pending record with this binding already exists,
// {'limit', n} the requester already holds n pending records.
// The log entry and the published message carry the same id, so a reader that missed a
// message (a reconnect) reads the log from the last id it saw and misses nothing.
const SOURCE = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = redis.call('GET', KEYS[1])
local expected = tonumber(ARGV[1])
if ARGV[9] ~= '' and now >= tonumber(ARGV[9]) then return -2 end
if expected == 0 then
  if current then return 0 end
  local existing = redis.call('GET', KEYS[4])
  if existing then return {'joined', existing} end
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
  if ARGV[10] ~= '' then
    local held = redis.call('ZCARD', KEYS[5])
    if held >= tonumber(ARGV[10]) then return {'limit', held} end
  end
else
  if not current then return -1 end
  if cjson.decode(current)['version'] ~= expected then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
  if expected == 0 then
    -- While it is pending, asking again for the same command finds this record.
    redis.call('SET', KEYS[4], ARGV[5], 'PXAT', ARGV[4])
    redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5])
    local ttl = redis.call('PTTL', KEYS[5])
    if ttl < 0 or now + ttl < tonumber(ARGV[4]) then redis.call('PEXPIREAT', KEYS[5], ARGV[4]) end
  end
else
  redis.call('ZREM', KEYS[2], ARGV[5])
  redis.call('ZREM', KEYS[5], ARGV[5])
  if redis.call('GET', KEYS[4]) == ARGV[5] then redis.call('DEL', KEYS[4]) end
end
-- While it is approved and unused, sending the same command again finds this record.
if KEYS[6] then
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
  if ARGV[11] ~= '' then
    redis.call('ZADD', KEYS[6], ARGV[11], ARGV[5])
    local ttl = redis.call('PTTL', KEYS[6])
    if ttl < 0 or now + ttl < tonumber(ARGV[11]) then redis.call('PEXPIREAT', KEYS[6], ARGV[11]) end
  else
    redis.call('ZREM', KEYS[6], ARGV[5])
  end
end
local eventId = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'e', ARGV[7])
redis.call('PUBLISH', ARGV[6], '{"id":"' .. eventId .. '",' .. string.sub(ARGV[7], 2))
return eventId
`;

// KEYS: a record. Returns the time on the node that holds it (seconds, microseconds) and the
// record, so a transition applies its rules at the instant Redis will judge its write by.
const READ_SOURCE = `
local t = redis.call('TIME')
return {t[1], t[2], redis.call('GET', KEYS[1])}
`;

const SHA = createHash('sha1').update(SOURCE).digest('hex');
const READ_SHA = createHash('sha1').update(READ_SOURCE).digest('hex');

export type WriteOutcome =
  | { written: string }
  | { joined: string }
  | { limit: number }
  | 'conflict'
  | 'missing'
  | 'late';

export interface ApprovalWrite {
  recordKey: string;
  pendingKey: string;
  logKey: string;
  bindingKey: string;
  requesterKey: string;
  /** The granted set of the record's binding; absent, the write leaves granted sets alone. */
  grantedKey?: string;
  logLength: number;
  expectedVersion: number;
  recordJson: string;
  keyExpiresAtMs: number;
  /** Present while the record is pending. */
  pendingScore?: number;
  id: string;
  channel: string;
  eventJson: string;
  /** The write is refused at or after this instant by Redis's clock. */
  deadlineMs?: number;
  /** A create only: refused when the requester already holds this many pending records. */
  maxPendingPerRequester?: number;
  /** Present while the record is a granted, unused per-command approval: until when it is usable. */
  grantedScore?: number;
}

export async function runApprovalWrite(client: Redis | Cluster, write: ApprovalWrite): Promise<WriteOutcome> {
  const keys = [write.recordKey, write.pendingKey, write.logKey, write.bindingKey, write.requesterKey, ...(write.grantedKey === undefined ? [] : [write.grantedKey])];
  const args = [
    String(write.expectedVersion),
    write.recordJson,
    String(write.keyExpiresAtMs),
    write.pendingScore === undefined ? '' : String(write.pendingScore),
    write.id,
    write.channel,
    write.eventJson,
    String(write.logLength),
    write.deadlineMs === undefined ? '' : String(write.deadlineMs),
    write.maxPendingPerRequester === undefined ? '' : String(write.maxPendingPerRequester),
    write.grantedScore === undefined ? '' : String(write.grantedScore),
  ];
  const reply = await runScript(client, SHA, SOURCE, keys, args);
  if (typeof reply === 'string') return { written: reply };
  if (Array.isArray(reply) && reply[0] === 'joined' && typeof reply[1] === 'string') return { joined: reply[1] };
  if (Array.isArray(reply) && reply[0] === 'limit' && typeof reply[1] === 'number') return { limit: reply[1] };
  if (reply === 0) return 'conflict';
  if (reply === -1) return 'missing';
  if (reply === -2) return 'late';
  throw new Error(`approval write script answered ${String(reply)}`);
}

/** A record as stored (undefined when absent) and Redis's time when it was read. */
export async function readWithTime(client: Redis | Cluster, recordKey: string): Promise<{ json: string | undefined; now: Date }> {
  const reply = (await runScript(client, READ_SHA, READ_SOURCE, [recordKey], [])) as unknown[];
  const [seconds, micros, json] = reply;
  const now = new Date(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
  if (!Number.isFinite(now.getTime())) throw new Error('approval read script answered without a time');
  return { json: typeof json === 'string' ? json : undefined, now };
}

async function runScript(client: Redis | Cluster, sha: string, source: string, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    // A restarted or fresh Redis has an empty script cache: send the source once, it caches it.
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    return client.eval(source, keys.length, ...keys, ...args);
  }
}
