import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditSigningDirectory, devIssuerDirectory } from '@portcullis/pdp';
import { prepareMix, startPdpProcess, type PdpProcess, type PreparedMix } from './pdp-process.ts';
import { THREAD_LABELS_PRELOAD } from './process-cpu.ts';

export interface PdpReplicaSetOptions {
  readonly work: string;
  readonly count: number;
  /** The policy every replica serves: a built bundle, or a folder each compiles (`opa build`). */
  readonly policy: { readonly bundleFile: string } | { readonly policyDir: string };
  readonly kafkaBrokers: string;
  readonly kafkaTopicPrefix: string;
  readonly redisUrl: string;
  /** More PORTCULLIS_* settings for every replica. */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra node options for every replica (profiling). */
  readonly nodeOptions?: string;
}

export interface PdpReplica extends PdpProcess {
  readonly stateDir: string;
  /** Where THREAD_LABELS_PRELOAD wrote its threads' labels (for labelledThreadCpuSeconds). */
  readonly threadLabelsDir: string;
}

export interface PdpReplicaSet {
  readonly replicas: readonly PdpReplica[];
  /** The mix's tokens, minted by the issuer every replica trusts. */
  readonly mix: PreparedMix;
  /**
   * Writes one JWKS holding every replica's audit signing public key: what an auditor pins
   * (`audit verify --jwks`) for a trail several replicas wrote.
   */
  writeTrustedJwks(path: string): string;
  stop(): Promise<void>;
}

/**
 * `count` PDP processes (`portcullis serve`) as a multi-replica deployment runs them: what they
 * share — the OIDC issuer they trust (one JWKS file), the key that seals decision ids
 * (PORTCULLIS_DECISION_KEY_FILE), the approvals store (Redis), the audit destination (one Kafka
 * topic prefix) and the bundle — and what each keeps for itself: its state folder, so its own
 * spool, producer ledger and audit signing key, and a fresh producer id per run, so every replica
 * writes chains of its own that `audit verify` tells apart. Started one after another (each
 * creates the topics it finds missing); stopped together.
 */
export async function startPdpReplicas(options: PdpReplicaSetOptions): Promise<PdpReplicaSet> {
  const identityDir = join(options.work, 'identity');
  mkdirSync(identityDir, { recursive: true });
  // The dev issuer stands in for the organisation's OIDC provider: replicas trust its JWKS file.
  const mix = await prepareMix(identityDir);
  const shared: NodeJS.ProcessEnv = {
    PORTCULLIS_OIDC_ISSUER: mix.issuer.issuer,
    PORTCULLIS_OIDC_JWKS_FILE: join(devIssuerDirectory(identityDir), 'jwks.json'),
    PORTCULLIS_DECISION_KEY_FILE: join(options.work, 'decision-key/key'),
    ...('bundleFile' in options.policy ? { PORTCULLIS_BUNDLE_FILE: options.policy.bundleFile } : { PORTCULLIS_POLICY_DIR: options.policy.policyDir }),
    PORTCULLIS_KAFKA_BROKERS: options.kafkaBrokers,
    PORTCULLIS_KAFKA_TOPIC_PREFIX: options.kafkaTopicPrefix,
    PORTCULLIS_REDIS_URL: options.redisUrl,
    ...options.env,
  };
  const replicas: PdpReplica[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(replicas.map((replica) => replica.stop()));
  };
  try {
    for (let index = 1; index <= options.count; index += 1) {
      const stateDir = join(options.work, `replica-${index}`);
      const threadLabelsDir = join(options.work, `replica-${index}-threads`);
      mkdirSync(stateDir, { recursive: true });
      mkdirSync(threadLabelsDir, { recursive: true });
      const pdp = await startPdpProcess(`pdp-replica-${index}`, {
        ...shared, PORTCULLIS_STATE_DIR: stateDir, BENCH_THREAD_LABELS_DIR: threadLabelsDir,
      }, `--import ${THREAD_LABELS_PRELOAD} ${options.nodeOptions ?? ''}`);
      replicas.push({ ...pdp, stateDir, threadLabelsDir });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    replicas,
    mix,
    writeTrustedJwks: (path) => {
      const keys = replicas.flatMap((replica) => (JSON.parse(readFileSync(join(auditSigningDirectory(replica.stateDir), 'jwks.json'), 'utf8')) as { keys: unknown[] }).keys);
      writeFileSync(path, `${JSON.stringify({ keys }, null, 2)}\n`);
      return path;
    },
    stop,
  };
}
