/**
 * npm run bench:approvals — what holding a command for approval costs, and what waiting costs.
 *
 * One PDP process with its approval store in a real Redis. (a) The approval round trip, one at a
 * time: an agent's decision answers approval_required → the approver's WebSocket is told →
 * the approver votes on that WebSocket → the PEP's waiter is released (a WebSocket `wait`, and
 * separately an HTTP long-poll), with each leg timed. Baselines in the same run: a plain allow
 * decision and a Redis PING round trip. (b) 1,000 concurrent pending waits held by the PDP
 * (long-polls over keep-alive connections, then WebSocket waits on one connection): the PDP's
 * memory before and after, per wait, and how many are released when all are approved.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../test/support/repository-root.ts';
import { DevIssuer, devIssuerDirectory } from '@portcullis/pdp';
import { RedisServer } from '../test/support/redis-server.ts';
import { BenchSocket, type SocketMessage } from './lib/approval-socket.ts';
import { KeepAliveHttp } from './lib/keep-alive-http.ts';
import { startPdpProcess, type PdpProcess } from './lib/pdp-process.ts';
import { freePort } from './lib/processes.ts';
import { nowMs, summarize, type LatencySummary } from './lib/percentiles.ts';
import { metricValue, sampleMemory, type MemorySample } from './lib/process-memory.ts';
import { redisPingRoundTrips } from './lib/redis-ping.ts';
import { RemoteGc } from './lib/remote-gc.ts';

const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 300);
const WAITS = Number(process.env.BENCH_WAITS ?? 1000);
const WARMUP = Math.min(50, ROUND_TRIPS);
const say = (message: string): void => console.error(`[bench:approvals] ${message}`);

const ORDERS_DB = { type: 'postgres', name: 'orders-db', environment: 'production' };

interface Tokens {
  pep: string;
  writer: string;
  reader: string;
  approver: string;
}

interface Legs {
  decisionMs: number;
  /** From the request until the approver's socket has the `requested` event. */
  notifiedMs: number;
  /** What notification adds after the PEP has its answer (0 when the event came first). */
  notifyAfterDecisionMs: number;
  voteToReleaseMs: number;
  /** decision + notify-after-decision + vote→release: the path with no person in it. */
  roundTripMs: number;
  /** The PEP sends the command again with approval_id and gets allow. */
  executeMs: number;
}

type WaitVia = 'socket' | 'long-poll';

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-approvals-'));
  let redis: RedisServer | undefined;
  let pdp: PdpProcess | undefined;
  const sockets: BenchSocket[] = [];
  const cleanups: (() => void)[] = [];
  const http = new KeepAliveHttp(4);
  try {
    say('building the bundle, starting Redis and the PDP…');
    execFileSync(process.execPath, [join(REPOSITORY_ROOT, 'policies/build.mjs')], { stdio: 'inherit' });
    redis = await RedisServer.start();
    const stateDir = join(work, 'state');
    mkdirSync(stateDir);
    const tokens = await mintTokens(stateDir);
    // The inspector (loopback only) lets the bench run a full GC before each memory sample.
    const inspectorPort = await freePort();
    pdp = await startPdpProcess('pdp', {
      PORTCULLIS_STATE_DIR: stateDir,
      PORTCULLIS_BUNDLE_FILE: join(REPOSITORY_ROOT, 'policies/build/bundle.tar.gz'),
      PORTCULLIS_REDIS_URL: redis.url,
      // The bench holds 1,000 approvals of one agent pending at once to measure the waits' cost;
      // the per-principal cap (20 by default) would refuse all but the first.
      PORTCULLIS_APPROVAL_MAX_PENDING_PER_PRINCIPAL: '5000',
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--inspect=127.0.0.1:${inspectorPort}`].filter(Boolean).join(' '),
    });
    const target = pdp;
    const auth = { authorization: `Bearer ${tokens.pep}` };
    const decide = (body: Record<string, unknown>) => http.post<Record<string, any>>(`${target.url}/v1/decisions`, JSON.stringify(body), auth);

    const approver = await BenchSocket.open(target.url, tokens.approver);
    sockets.push(approver);
    approver.send({ type: 'subscribe' });
    await approver.next((message) => message.type === 'snapshot');
    const pepSocket = await BenchSocket.open(target.url, tokens.pep);
    sockets.push(pepSocket);

    let sequence = 0;
    const uniqueSql = (): string => `DELETE FROM orders WHERE id = ${(sequence += 1)}`;

    const roundTrip = async (via: WaitVia): Promise<Legs> => {
      const sql = uniqueSql();
      const request = { subject_token: tokens.writer, resource: ORDERS_DB, action: { type: 'sql', sql } };
      approver.clearInbox();
      const started = nowMs();
      const notified = approver
        .next((message) => message.type === 'event' && message.event === 'requested' && (message.approval as { action: { sql?: string } }).action.sql === sql)
        .then(() => nowMs());
      const answer = await decide(request);
      const decided = nowMs();
      if (answer.body.effect !== 'approval_required') throw new Error(`expected approval_required, got ${JSON.stringify(answer.body)}`);
      const id = answer.body.approval.id as string;
      const notifiedAt = await notified;

      // The PEP starts waiting (in reality while a person reads the request; not timed).
      let released: Promise<{ status: string; at: number }>;
      if (via === 'socket') {
        pepSocket.send({ type: 'wait', request_id: id, approval_id: id });
        await pepSocket.next((message) => message.type === 'approval' && message.request_id === id && message.final === false);
        released = pepSocket
          .next((message) => message.type === 'approval' && message.request_id === id && message.final === true)
          .then((message) => ({ status: (message.approval as { status: string }).status, at: nowMs() }));
      } else {
        released = http.get<{ approval: { status: string } }>(`${target.url}/v1/approvals/${id}?wait=30`, auth).then((response) => ({ status: response.body.approval.status, at: nowMs() }));
        await until(async () => (await metricValue(target.url, 'portcullis_approval_waits')) >= 1, 'the long-poll to be held');
      }

      const voted = nowMs();
      approver.send({ type: 'vote', request_id: `vote-${id}`, approval_id: id, verdict: 'approve', reason: 'bench' });
      const release = await released;
      if (release.status !== 'approved') throw new Error(`the waiter was released with ${release.status}`);
      const result = await approver.next((message) => message.type === 'vote_result' && message.request_id === `vote-${id}`);
      if (result.ok !== true) throw new Error(`the vote was refused: ${JSON.stringify(result)}`);

      const executeStarted = nowMs();
      const executed = await decide({ ...request, approval_id: id });
      const executeMs = nowMs() - executeStarted;
      if (executed.body.effect !== 'allow') throw new Error(`the approved command was not allowed: ${JSON.stringify(executed.body)}`);
      return {
        decisionMs: decided - started,
        notifiedMs: notifiedAt - started,
        notifyAfterDecisionMs: Math.max(0, notifiedAt - decided),
        voteToReleaseMs: release.at - voted,
        roundTripMs: Math.max(decided, notifiedAt) - started + (release.at - voted),
        executeMs,
      };
    };

    const allowDecision = async (): Promise<number> => {
      const started = nowMs();
      const answer = await decide({ subject_token: tokens.reader, resource: ORDERS_DB, action: { type: 'sql', sql: 'SELECT id, total FROM orders WHERE id = 7' } });
      const took = nowMs() - started;
      if (answer.body.effect !== 'allow') throw new Error(`expected allow, got ${JSON.stringify(answer.body)}`);
      return took;
    };

    say(`warming up (${WARMUP} of each)…`);
    for (let index = 0; index < WARMUP; index += 1) {
      await allowDecision();
      await roundTrip('socket');
      await roundTrip('long-poll');
    }
    await redisPingRoundTrips(redis.port, WARMUP);

    say(`(a) ${ROUND_TRIPS} sequential round trips of each kind…`);
    const allowSamples: number[] = [];
    for (let index = 0; index < ROUND_TRIPS; index += 1) allowSamples.push(await allowDecision());
    const pingSamples = await redisPingRoundTrips(redis.port, ROUND_TRIPS);
    const socketLegs: Legs[] = [];
    for (let index = 0; index < ROUND_TRIPS; index += 1) socketLegs.push(await roundTrip('socket'));
    const pollLegs: Legs[] = [];
    for (let index = 0; index < ROUND_TRIPS; index += 1) pollLegs.push(await roundTrip('long-poll'));

    say(`(b) ${WAITS} concurrent long-polls over ${WAITS} keep-alive connections…`);
    const gc = await RemoteGc.connect(inspectorPort);
    cleanups.push(() => gc.close());
    const memory = (): Promise<MemorySample> => sampleMemory(target.process.pid!, target.url, gc);
    const createPending = async (count: number): Promise<string[]> => {
      const ids: string[] = [];
      const worker = async (): Promise<void> => {
        while (ids.length < count) {
          const answer = await decide({ subject_token: tokens.writer, resource: ORDERS_DB, action: { type: 'sql', sql: uniqueSql() } });
          if (answer.body.effect !== 'approval_required') throw new Error(`expected approval_required, got ${JSON.stringify(answer.body)}`);
          ids.push(answer.body.approval.id as string);
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      return ids.slice(0, count);
    };
    const approveAll = async (ids: readonly string[]): Promise<number> => {
      let accepted = 0;
      let outstanding = ids.length;
      const done = new Promise<void>((resolve) => {
        approver.listen((message: SocketMessage) => {
          if (message.type === 'vote_result' && String(message.request_id).startsWith('bulk-')) {
            if (message.ok === true) accepted += 1;
            if (--outstanding === 0) resolve();
          }
        });
      });
      for (const id of ids) approver.send({ type: 'vote', request_id: `bulk-${id}`, approval_id: id, verdict: 'approve', reason: 'bench' });
      await done;
      approver.listen(undefined);
      return accepted;
    };

    const pollIds = await createPending(WAITS);
    const pollHttp = new KeepAliveHttp(WAITS);
    const idle = await memory();
    // Every PEP keeps its connection open anyway: open them first, so a wait's own cost shows apart.
    await Promise.all(pollIds.map((id) => pollHttp.get(`${target.url}/v1/approvals/${id}`, auth)));
    const connections = pollHttp.openSockets();
    const withConnections = await memory();
    const polls = pollIds.map((id) => pollHttp.get<{ approval: { status: string } }>(`${target.url}/v1/approvals/${id}?wait=60`, auth));
    await until(async () => (await metricValue(target.url, 'portcullis_approval_waits')) >= WAITS, `${WAITS} long-polls to be held`);
    const withPolls = await memory();
    const pollReleaseStarted = nowMs();
    const pollVotes = await approveAll(pollIds);
    const pollAnswers = await Promise.all(polls);
    const pollReleaseMs = nowMs() - pollReleaseStarted;
    const pollsReleasedApproved = pollAnswers.filter((answer) => answer.body.approval.status === 'approved').length;
    pollHttp.close();

    say(`(b) ${WAITS} concurrent WebSocket waits on one connection…`);
    const socketIds = await createPending(WAITS);
    const beforeSocketWaits = await memory();
    let registered = 0;
    let releasedApproved = 0;
    let releasedOther = 0;
    pepSocket.listen((message) => {
      if (message.type !== 'approval') return;
      if (message.final !== true) registered += 1;
      else if ((message.approval as { status: string }).status === 'approved') releasedApproved += 1;
      else releasedOther += 1;
    });
    for (const id of socketIds) pepSocket.send({ type: 'wait', request_id: id, approval_id: id });
    await until(async () => registered >= WAITS, `${WAITS} WebSocket waits to be held`);
    const withSocketWaits = await memory();
    const socketReleaseStarted = nowMs();
    const socketVotes = await approveAll(socketIds);
    await until(async () => releasedApproved + releasedOther >= WAITS, `${WAITS} WebSocket waits to be released`, 60_000);
    const socketReleaseMs = nowMs() - socketReleaseStarted;
    pepSocket.listen(undefined);

    const legs = (list: Legs[]) => ({
      decision: summarize(list.map((entry) => entry.decisionMs)),
      notified_from_request: summarize(list.map((entry) => entry.notifiedMs)),
      notify_after_decision: summarize(list.map((entry) => entry.notifyAfterDecisionMs)),
      vote_to_release: summarize(list.map((entry) => entry.voteToReleaseMs)),
      round_trip: summarize(list.map((entry) => entry.roundTripMs)),
      execute_with_approval_id: summarize(list.map((entry) => entry.executeMs)),
      /** Each leg's share of the mean round trip (the three add up to it). */
      share_of_round_trip: shares(list),
    });
    const perWait = (before: MemorySample, after: MemorySample) => ({
      rss_bytes: (after.rssBytes - before.rssBytes) / WAITS,
      heap_used_bytes: (after.heapUsedBytes - before.heapUsedBytes) / WAITS,
    });
    const allow = summarize(allowSamples);
    const ping = summarize(pingSamples);
    const socketRun = legs(socketLegs);
    const pollRun = legs(pollLegs);
    const result = {
      date: new Date().toISOString(),
      machine: { cores: availableParallelism(), node: process.version },
      approval_store: 'redis',
      round_trips: ROUND_TRIPS,
      baseline_allow_decision: allow,
      baseline_redis_ping: ping,
      approval_waiter_on_websocket: socketRun,
      approval_waiter_on_long_poll: pollRun,
      ratios_p50: {
        websocket_round_trip_to_allow_decision: socketRun.round_trip.p50Ms / allow.p50Ms,
        websocket_round_trip_to_redis_ping: socketRun.round_trip.p50Ms / ping.p50Ms,
        long_poll_round_trip_to_allow_decision: pollRun.round_trip.p50Ms / allow.p50Ms,
        long_poll_round_trip_to_redis_ping: pollRun.round_trip.p50Ms / ping.p50Ms,
      },
      concurrent_waits: {
        waits: WAITS,
        long_polls: {
          keep_alive_connections: connections,
          memory_idle: idle,
          memory_with_connections: withConnections,
          memory_with_waits: withPolls,
          per_connection: perWait(idle, withConnections),
          per_wait: perWait(withConnections, withPolls),
          votes_accepted: pollVotes,
          released_approved: pollsReleasedApproved,
          all_released_ms: pollReleaseMs,
        },
        websocket_waits: {
          connections: 1,
          memory_before: beforeSocketWaits,
          memory_with_waits: withSocketWaits,
          per_wait: perWait(beforeSocketWaits, withSocketWaits),
          votes_accepted: socketVotes,
          released_approved: releasedApproved,
          released_otherwise: releasedOther,
          all_released_ms: socketReleaseMs,
        },
      },
    };
    mkdirSync(join(REPOSITORY_ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(REPOSITORY_ROOT, 'bench/results/approvals.json'), `${JSON.stringify(result, null, 2)}\n`);
    printReport(result);
  } finally {
    for (const cleanup of cleanups) cleanup();
    for (const socket of sockets) socket.close();
    http.close();
    await pdp?.stop();
    await redis?.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

async function mintTokens(stateDir: string): Promise<Tokens> {
  const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
  const mint = (sub: string, roles: string[], kind: 'agent' | 'human') => issuer.issue({ sub, roles, kind, ttlSeconds: 3600 });
  return {
    pep: await issuer.issue({ sub: 'pep-bench', roles: ['pep'], resources: [ORDERS_DB.name], ttlSeconds: 3600 }),
    writer: await mint('agent-ops', ['reader', 'writer'], 'agent'),
    reader: await mint('agent-reporting', ['reader'], 'agent'),
    // Votes and the approvals socket take a console session.
    approver: await issuer.issue({ sub: 'alice', roles: ['approver'], kind: 'human', console: true, ttlSeconds: 3600 }),
  };
}

function shares(list: Legs[]): { decision: number; notify: number; vote_to_release: number } {
  const total = list.reduce((sum, entry) => sum + entry.roundTripMs, 0);
  const part = (pick: (entry: Legs) => number): number => list.reduce((sum, entry) => sum + pick(entry), 0) / total;
  return { decision: part((entry) => entry.decisionMs), notify: part((entry) => entry.notifyAfterDecisionMs), vote_to_release: part((entry) => entry.voteToReleaseMs) };
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function printReport(result: {
  round_trips: number;
  baseline_allow_decision: LatencySummary;
  baseline_redis_ping: LatencySummary;
  approval_waiter_on_websocket: { round_trip: LatencySummary; decision: LatencySummary; notified_from_request: LatencySummary; vote_to_release: LatencySummary; execute_with_approval_id: LatencySummary; share_of_round_trip: ReturnType<typeof shares> };
  approval_waiter_on_long_poll: { round_trip: LatencySummary; decision: LatencySummary; notified_from_request: LatencySummary; vote_to_release: LatencySummary; execute_with_approval_id: LatencySummary; share_of_round_trip: ReturnType<typeof shares> };
  ratios_p50: Record<string, number>;
  concurrent_waits: { waits: number; long_polls: Record<string, any>; websocket_waits: Record<string, any> };
}): void {
  const ms = (value: number): string => value.toFixed(2).padStart(8);
  const pct = (value: number): string => `${(value * 100).toFixed(0)}%`;
  const row = (name: string, summary: LatencySummary, note = ''): string => `${name.padEnd(46)} ${ms(summary.p50Ms)} ${ms(summary.p99Ms)}  ${note}`;
  const ws = result.approval_waiter_on_websocket;
  const lp = result.approval_waiter_on_long_poll;
  const split = (run: typeof ws): string => `decision ${pct(run.share_of_round_trip.decision)} · notify ${pct(run.share_of_round_trip.notify)} · vote→release ${pct(run.share_of_round_trip.vote_to_release)}`;
  console.log(`\nApproval round trip — ${result.round_trips} sequential, one PDP, approval store in Redis, ${availableParallelism()} cores`);
  console.log(`${''.padEnd(46)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
  console.log(row('baseline: Redis PING', result.baseline_redis_ping));
  console.log(row('baseline: allow decision (/v1/decisions)', result.baseline_allow_decision));
  console.log(row('approval round trip, PEP waits on WebSocket', ws.round_trip, split(ws)));
  console.log(row('  decision → approval_required', ws.decision));
  console.log(row('  request → approver notified', ws.notified_from_request));
  console.log(row('  vote → PEP released', ws.vote_to_release));
  console.log(row('approval round trip, PEP waits on long-poll', lp.round_trip, split(lp)));
  console.log(row('  vote → PEP released', lp.vote_to_release));
  console.log(row('then: re-sent with approval_id → allow', ws.execute_with_approval_id));
  const r = result.ratios_p50;
  console.log(`\nratios (p50): WebSocket round trip / allow decision ${r.websocket_round_trip_to_allow_decision!.toFixed(1)}×, / Redis PING ${r.websocket_round_trip_to_redis_ping!.toFixed(0)}×;`);
  console.log(`              long-poll round trip / allow decision ${r.long_poll_round_trip_to_allow_decision!.toFixed(1)}×, / Redis PING ${r.long_poll_round_trip_to_redis_ping!.toFixed(0)}×`);

  const mib = (bytes: number): string => (bytes / 1048576).toFixed(1).padStart(9);
  const bytes = (value: number): string => value.toFixed(0).padStart(9);
  const { waits, long_polls: polls, websocket_waits: sockets } = result.concurrent_waits;
  console.log(`\n${waits} concurrent waits held by one PDP`);
  console.log(`${''.padEnd(46)} ${'RSS MiB'.padStart(9)} ${'heap MiB'.padStart(9)}`);
  console.log(`${'idle'.padEnd(46)} ${mib(polls.memory_idle.rssBytes)} ${mib(polls.memory_idle.heapUsedBytes)}`);
  console.log(`${`+ ${polls.keep_alive_connections} idle keep-alive connections`.padEnd(46)} ${mib(polls.memory_with_connections.rssBytes)} ${mib(polls.memory_with_connections.heapUsedBytes)}`);
  console.log(`${`+ ${waits} long-polls on them`.padEnd(46)} ${mib(polls.memory_with_waits.rssBytes)} ${mib(polls.memory_with_waits.heapUsedBytes)}`);
  console.log(`${'one WebSocket, before its waits'.padEnd(46)} ${mib(sockets.memory_before.rssBytes)} ${mib(sockets.memory_before.heapUsedBytes)}`);
  console.log(`${`+ ${waits} WebSocket waits`.padEnd(46)} ${mib(sockets.memory_with_waits.rssBytes)} ${mib(sockets.memory_with_waits.heapUsedBytes)}`);
  console.log(`${''.padEnd(46)} ${'RSS B'.padStart(9)} ${'heap B'.padStart(9)}`);
  console.log(`${'per keep-alive connection'.padEnd(46)} ${bytes(polls.per_connection.rss_bytes)} ${bytes(polls.per_connection.heap_used_bytes)}`);
  console.log(`${'per long-poll wait'.padEnd(46)} ${bytes(polls.per_wait.rss_bytes)} ${bytes(polls.per_wait.heap_used_bytes)}`);
  console.log(`${'per WebSocket wait'.padEnd(46)} ${bytes(sockets.per_wait.rss_bytes)} ${bytes(sockets.per_wait.heap_used_bytes)}`);
  console.log(`\nreleased when approved: long-polls ${polls.released_approved}/${waits} (all within ${(polls.all_released_ms / 1000).toFixed(2)} s of the first vote), WebSocket waits ${sockets.released_approved}/${waits} (${(sockets.all_released_ms / 1000).toFixed(2)} s)`);
}

main().catch((error: unknown) => {
  console.error(`[bench:approvals] failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
});
