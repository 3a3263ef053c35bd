import { Cluster } from 'ioredis';
import type { PdpConfig } from '../config/pdp-config.ts';
import type { ApprovalStore, LocalWriteListener } from './approval-store.ts';
import { InMemoryApprovalStore } from './in-memory-approval-store.ts';
import { RedisApprovalStore } from './redis-approval-store.ts';

export interface ApprovalStoreHooks {
  readonly onLocalWrite: LocalWriteListener;
  readonly onError: (error: unknown) => void;
}

/** Redis when configured (URL, Sentinel or Cluster), else the in-process store. */
export function createApprovalStore(config: PdpConfig['approvals'], hooks: ApprovalStoreHooks): { store: ApprovalStore; description: string } {
  const redis = config.redis;
  if (redis === undefined) {
    return { store: new InMemoryApprovalStore(hooks), description: 'in memory (this process only; set PORTCULLIS_REDIS_URL to share and keep approvals)' };
  }
  switch (redis.kind) {
    case 'url':
      return { store: new RedisApprovalStore({ connection: redis.url, prefix: redis.prefix, ...hooks }), description: `redis ${redactUrl(redis.url)}` };
    case 'sentinel':
      return {
        store: new RedisApprovalStore({
          connection: { sentinels: [...redis.sentinels], name: redis.name, ...(redis.password ? { password: redis.password, sentinelPassword: redis.password } : {}) },
          prefix: redis.prefix,
          ...hooks,
        }),
        description: `redis sentinel ${redis.name} via ${redis.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`,
      };
    case 'cluster': {
      const cluster = new Cluster([...redis.nodes], {
        enableOfflineQueue: false,
        redisOptions: { maxRetriesPerRequest: 0, commandTimeout: 2000, ...(redis.password ? { password: redis.password } : {}) },
      });
      cluster.on('error', () => {});
      return { store: new RedisApprovalStore({ connection: cluster, ownsConnection: true, prefix: redis.prefix, ...hooks }), description: `redis cluster via ${redis.nodes.map((n) => `${n.host}:${n.port}`).join(',')}` };
    }
  }
}

/** A Redis URL may carry a password: logs show everything but it. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis (unparseable URL)';
  }
}
