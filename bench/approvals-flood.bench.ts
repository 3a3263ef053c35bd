/**
 * npm run bench:approvals-flood — what one principal can make the PDP and the console hold.
 *
 * One PDP process (approvals in a real Redis), its memory sampled after a full GC through its
 * inspector. (a) A retry storm: one writer sends the same held UPDATE from `BENCH_STORM_CLIENTS`
 * keep-alive connections for `BENCH_STORM_SECONDS` (a read/write mix, as an agent under wrk
 * would): how many pending approvals it leaves and how much the PDP grew. (b) 300 approvals of
 * 200 KiB of SQL each (the per-principal cap raised for it): the PDP's memory, and the size of
 * the WebSocket snapshot and of one GET /v1/approvals page a console receives.
 * BENCH_PDP_ROOT runs another checkout's PDP (the same flow against an older build);
 * BENCH_STORE=memory keeps approvals in the PDP process instead of Redis.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { DevIssuer, devIssuerDirectory } from '@portcullis/pdp';
import { RedisServer } from '../test/support/redis-server.ts';
import { KeepAliveHttp } from './lib/keep-alive-http.ts';
import { freePort, nodeFlags, startService, type Service } from './lib/processes.ts';
import { sampleMemory } from './lib/process-memory.ts';
import { RemoteGc } from './lib/remote-gc.ts';

const STORM_SECONDS = Number(process.env.BENCH_STORM_SECONDS ?? 30);
const STORM_CLIENTS = Number(process.env.BENCH_STORM_CLIENTS ?? 8);
const BIG = Number(process.env.BENCH_BIG_APPROVALS ?? 300);
const BIG_BYTES = 200 * 1024;
const PDP_ROOT = process.env.BENCH_PDP_ROOT ?? REPOSITORY_ROOT;
const IN_MEMORY = process.env.BENCH_STORE === 'memory';
const ORDERS_DB = { type: 'postgres', name: 'orders-db', environment: 'production' };
const say = (message: string): void => console.error(`[bench:approvals-flood] ${message}`);
const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-flood-'));
  let redis: RedisServer | undefined;
  let pdp: (Service & { url: string }) | undefined;
  const http = new KeepAliveHttp(STORM_CLIENTS + 2);
  try {
    execFileSync(process.execPath, [join(PDP_ROOT, 'policies/build.mjs')], { stdio: 'inherit' });
    redis = await RedisServer.start();
    const stateDir = join(work, 'state');
    mkdirSync(stateDir);
    const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
    const pep = await issuer.issue({ sub: 'pep-bench', roles: ['pep'], resources: [ORDERS_DB.name], ttlSeconds: 3600 } as Parameters<DevIssuer['issue']>[0]);
    const writer = await issuer.issue({ sub: 'agent-ops', roles: ['reader', 'writer'], kind: 'agent', ttlSeconds: 3600 });
    const approvers = [
      await issuer.issue({ sub: 'alice', roles: ['approver'], kind: 'human', console: true, ttlSeconds: 3600 } as Parameters<DevIssuer['issue']>[0]),
      await issuer.issue({ sub: 'alice', roles: ['approver'], kind: 'human', ttlSeconds: 3600 }),
    ];
    const inspectorPort = await freePort();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const service = await startService('pdp', process.execPath, [...nodeFlags(`--inspect=127.0.0.1:${inspectorPort}`), join(PDP_ROOT, 'pdp/bin/portcullis.mjs'), 'serve'], {
      ...process.env,
      PORTCULLIS_PORT: String(port),
      PORTCULLIS_STATE_DIR: stateDir,
      PORTCULLIS_BUNDLE_FILE: join(PDP_ROOT, 'policies/build/bundle.tar.gz'),
      ...(IN_MEMORY ? {} : { PORTCULLIS_REDIS_URL: redis.url }),
      PORTCULLIS_APPROVAL_MAX_PENDING_PER_PRINCIPAL: String(BIG + 10),
      // The bench reads the heap from /metrics without a credential.
      PORTCULLIS_METRICS_AUTH: 'false',
    }, async () => (await fetch(`${url}/health`)).ok);
    pdp = { ...service, url };
    const target = pdp;
    const gc = await RemoteGc.connect(inspectorPort);
    const memory = () => sampleMemory(target.process.pid!, target.url, gc);
    const auth = { authorization: `Bearer ${pep}` };
    const decide = (sql: string) => http.post<Record<string, any>>(`${url}/v1/decisions`, JSON.stringify({ subject_token: writer, resource: ORDERS_DB, action: { type: 'sql', sql } }), auth);

    // (a) the retry storm: half reads, half the same held UPDATE, as fast as the PDP answers.
    const before = await memory();
    say(`retry storm: ${STORM_CLIENTS} clients for ${STORM_SECONDS} s…`);
    const ids = new Set<string>();
    const counts = { decisions: 0, held: 0, other: 0 };
    const stopAt = Date.now() + STORM_SECONDS * 1000;
    await Promise.all(Array.from({ length: STORM_CLIENTS }, async (_, client) => {
      for (let index = client; Date.now() < stopAt; index += 1) {
        const answer = await decide(index % 2 === 0 ? 'UPDATE orders SET status = 1 WHERE id = 42' : 'SELECT id, total FROM orders WHERE id = 42');
        counts.decisions += 1;
        if (answer.body.effect === 'approval_required') {
          counts.held += 1;
          ids.add(answer.body.approval.id as string);
        } else if (answer.body.effect !== 'allow') counts.other += 1;
      }
    }));
    const afterStorm = await memory();
    const pendingAfterStorm = IN_MEMORY ? await apiPending(url, approvers) : await redisPending(redis);

    // (b) 300 approvals of 200 KiB of SQL.
    say(`${BIG} approvals of ${BIG_BYTES / 1024} KiB…`);
    const filler = 'x'.repeat(BIG_BYTES);
    for (let index = 0; index < BIG; index += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, offset) => decide(`UPDATE orders SET note = '${filler}' WHERE id = ${1000 + index + offset}`)));
    }
    const afterBig = await memory();
    let snapshotBytes = -1;
    let pageBytes = -1;
    for (const approver of approvers) {
      const page = await fetch(`${url}/v1/approvals`, { headers: { authorization: `Bearer ${approver}` } });
      if (page.status !== 200) continue;
      pageBytes = (await page.arrayBuffer()).byteLength;
      snapshotBytes = await snapshotSize(url, approver);
      break;
    }
    const result = {
      pdp: PDP_ROOT,
      store: IN_MEMORY ? 'memory' : 'redis',
      storm: {
        seconds: STORM_SECONDS, clients: STORM_CLIENTS, decisions: counts.decisions, held_answers: counts.held, other_answers: counts.other,
        distinct_approval_ids: ids.size, pending_in_store: pendingAfterStorm,
        rss_mb: { before: mb(before.rssBytes), after: mb(afterStorm.rssBytes) }, heap_mb: { before: mb(before.heapUsedBytes), after: mb(afterStorm.heapUsedBytes) },
      },
      big: {
        approvals: BIG, sql_kib: BIG_BYTES / 1024, rss_mb: mb(afterBig.rssBytes), heap_mb: mb(afterBig.heapUsedBytes),
        websocket_snapshot_kib: Math.round(snapshotBytes / 1024), get_approvals_page_kib: Math.round(pageBytes / 1024),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    gc.close();
  } finally {
    http.close();
    await pdp?.stop();
    await redis?.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Pending approvals as the HTTP API lists them, every page. */
async function apiPending(url: string, tokens: string[]): Promise<number> {
  for (const token of tokens) {
    let count = 0;
    let page: string | undefined;
    let ok = true;
    do {
      const response = await fetch(`${url}/v1/approvals${page ? `?page=${encodeURIComponent(page)}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
      if (response.status !== 200) {
        ok = false;
        break;
      }
      const body = (await response.json()) as { pending: unknown[]; next_page?: string };
      count += body.pending.length;
      page = body.next_page;
    } while (page !== undefined);
    if (ok) return count;
  }
  return -1;
}

async function redisPending(redis: RedisServer): Promise<number> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redis.url);
  try {
    return await client.zcard('{portcullis}:approvals:pending');
  } finally {
    client.disconnect();
  }
}

/** The bytes of the snapshot message a console receives on subscribing. */
function snapshotSize(baseUrl: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL('/v1/ws', baseUrl);
    url.protocol = 'ws:';
    const socket = new WebSocket(url, 'portcullis.v1', { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.includes('"type":"welcome"')) socket.send(JSON.stringify({ type: 'subscribe' }));
      if (text.startsWith('{"type":"snapshot"')) {
        resolve(data.byteLength);
        socket.close();
      }
    });
    socket.on('error', reject);
    socket.on('close', (code) => reject(new Error(`socket closed ${code} before a snapshot`)));
  });
}

await main();
