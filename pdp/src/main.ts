import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ApprovalBroker } from './approvals/approval-broker.ts';
import { createApprovalStore } from './approvals/approval-store-factory.ts';
import { AuditFolderLock } from './audit/trail/audit-folder-lock.ts';
import { ThreadedAuditTrail } from './audit/trail/threaded-audit-trail.ts';
import { siblingModule } from './threads/module-worker.ts';
import { attachApprovalSocketServer } from './http/ws/approval-socket-server.ts';
import type { PdpConfig, PolicySourceConfig } from './config/pdp-config.ts';
import { DecisionSeal } from './decisions/decision-seal.ts';
import { DecisionService, DECISION_ENTRYPOINT } from './decisions/decision-service.ts';
import { loadOrCreateDecisionKey } from './keys/decision-key-store.ts';
import { ActionEnricher } from './enrichment/action-enricher.ts';
import { BundleMcpArgumentRules } from './enrichment/mcp/mcp-argument-rules.ts';
import { createPdpApp } from './http/pdp-app.ts';
import { listen } from './http/pdp-server.ts';
import { CachingTokenVerifier } from './identity/caching-token-verifier.ts';
import { DevIssuer, devIssuerDirectory } from './identity/dev-issuer.ts';
import { keySourceForIssuer } from './identity/issuer-key-source.ts';
import { JoseTokenVerifier, type TrustedIssuer } from './identity/token-verifier.ts';
import type { LogFunction } from './logging/process-logger.ts';
import { PdpMetrics } from './metrics/pdp-metrics.ts';
import { configuredBundleVerifier } from './policy/configured-bundle-verifier.ts';
import { SubjectTokenVerifier } from './identity/subject-token-verifier.ts';
import type { BundleSource } from './policy/bundle-sources/bundle-source.ts';
import { BundleFileSource } from './policy/bundle-sources/bundle-file-source.ts';
import { HttpBundleSource } from './policy/bundle-sources/http-bundle-source.ts';
import { RegoFolderBundleSource } from './policy/bundle-sources/rego-folder-bundle-source.ts';
import { opaBinary } from './policy/opa-binary.ts';
import { OpaWasmEngine } from './policy/opa-wasm-engine.ts';
import { PolicyActivation, type BundleActivationFacts } from './policy/policy-activation.ts';
import { buildBundleActivationEvent, type BundleRole } from './audit/events/bundle-activation-audit-event.ts';
import type { AuditRecorder } from './audit/trail/audit-trail.ts';
import { redactedUrl } from './policy/bundle-sources/http-bundle-source.ts';
import { ShadowPolicy } from './shadow/shadow-policy.ts';
import type { PolicyBundle } from './policy/policy-bundle.ts';
import { BUNDLE_ARCHIVE_FOLDER } from './policy/bundle-archive/bundle-archive-layout.ts';
import { FolderBundleArchive } from './policy/bundle-archive/folder-bundle-archive.ts';
import { KafkaBundlePublisher } from './policy/bundle-archive/kafka-bundle-publisher.ts';

/** How long a PDP that lost its audit folder waits for its own close before reporting itself stopped. */
const LOST_LOCK_CLOSE_DEADLINE_MS = 10_000;

/** Stamped into every audit record's OCSF metadata. */
export const PRODUCT_VERSION = '0.1.0';

export interface RunningPdp {
  readonly url: string;
  readonly server: Server;
  readonly activation: PolicyActivation;
  readonly devIssuer: DevIssuer | undefined;
  readonly approvals: ApprovalBroker;
  /** The candidate evaluated beside the live policy, when one is configured. */
  readonly shadow: ShadowPolicy | undefined;
  /** Resolves once every audit event so far is durable. */
  flushAudit(): Promise<void>;
  close(): Promise<void>;
  /** Resolves, with why, once the PDP has stopped on its own (its audit folder's lock was lost); never on close(). */
  readonly stopped: Promise<string>;
}

/**
 * The composition root of the PDP process: builds every part from config and wires them, once
 * it holds its audit folder (one writer per folder: audit-folder-lock.ts).
 */
export async function startPdp(config: PdpConfig, log: LogFunction): Promise<RunningPdp> {
  const lock = await AuditFolderLock.acquire(config.audit.directory, { log });
  try {
    const pdp = await startHoldingAuditFolder(config, log);
    let stoppedItself: (why: string) => void = () => undefined;
    const running: RunningPdp = {
      ...pdp,
      async close() {
        try {
          await pdp.close();
        } finally {
          lock.release();
        }
      },
      stopped: new Promise<string>((resolve) => (stoppedItself = resolve)),
    };
    lock.onLost(() => {
      // Another PDP took the folder over (this one looked gone: paused, or cut off from a shared
      // volume), or the lock was removed: stop serving rather than write beside it.
      const why = `the lock of the audit folder ${config.audit.directory} was taken over or removed`;
      log(`audit: ${why}; this PDP stops so that two PDPs never write one audit folder`);
      // First, synchronously: no record still held here is written into the other PDP's files
      // (the decisions waiting for them are denied); then the rest closes as usual.
      void pdp.abandonAudit(why);
      // A volume that is gone can hold a write or fsync in the kernel, and the close with it: the
      // PDP reports itself stopped after a deadline anyway (`portcullis serve` then exits).
      let deadline: NodeJS.Timeout | undefined;
      const closedInTime = new Promise<boolean>((resolve) => {
        deadline = setTimeout(() => resolve(false), LOST_LOCK_CLOSE_DEADLINE_MS);
        running.close()
          .catch((error: unknown) => log(`audit: stopping after the lost lock: ${(error as Error).message}`))
          .finally(() => resolve(true));
      });
      void closedInTime.then((closed) => {
        clearTimeout(deadline);
        stoppedItself(closed ? why : `${why} (its close did not finish within ${LOST_LOCK_CLOSE_DEADLINE_MS / 1000} s)`);
      });
    });
    return running;
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** The PDP as it runs while holding its audit folder, and the way to stop its audit writes at once (the folder lost). */
type HoldingPdp = Omit<RunningPdp, 'stopped'> & { abandonAudit(why: string): Promise<void> };

async function startHoldingAuditFolder(config: PdpConfig, log: LogFunction): Promise<HoldingPdp> {
  const startedAt = new Date();
  const metrics = new PdpMetrics();

  const issuers: TrustedIssuer[] = [];
  let devIssuer: DevIssuer | undefined;
  if (config.identity.devIssuer) {
    devIssuer = new DevIssuer({ directory: devIssuerDirectory(config.stateDir), audience: config.identity.audience, consoleAudience: config.identity.consoleAudience });
    issuers.push(devIssuer.trustedIssuer());
    log(`identity: trusting the dev issuer (keys in ${devIssuer.directory}); set PORTCULLIS_OIDC_ISSUER for production`);
  }
  if (config.identity.issuer) {
    issuers.push({
      issuer: config.identity.issuer,
      keys: keySourceForIssuer({
        issuer: config.identity.issuer,
        ...(config.identity.jwksUrl ? { jwksUrl: config.identity.jwksUrl } : {}),
        ...(config.identity.jwksFile ? { jwksFile: config.identity.jwksFile } : {}),
      }),
    });
    log(`identity: trusting issuer ${config.identity.issuer}`);
  }
  // Two uses, two audiences: agent and PEP tokens for the API, console sessions for votes and the
  // console. Each verifier refuses the other's audience, so a PEP handed a person's console token
  // (as a Postgres password, say) cannot vote or act with it, and a console session decides nothing.
  const { audience, consoleAudience } = config.identity;
  const consoleAudiences = config.approvals.consoleOidc ? [consoleAudience, config.approvals.consoleOidc.clientId] : [consoleAudience];
  const verifierFor = (accepted: readonly string[], refused: readonly string[]) => new CachingTokenVerifier(
    new JoseTokenVerifier({
      issuers,
      audience: accepted,
      refusedAudiences: refused,
      clockSkewSeconds: config.identity.clockSkewSeconds,
      ...(config.identity.algorithms ? { algorithms: config.identity.algorithms } : {}),
    }),
    { maxAgeMs: 60_000, maxEntries: 10_000 },
  );
  const verifier = verifierFor([audience], consoleAudiences);
  const consoleVerifier = verifierFor(consoleAudiences, [audience]);
  const seal = new DecisionSeal(await loadOrCreateDecisionKey(config.identity.decisionKeyFile));

  // Before any thread starts: a policy source that cannot be set up (no opa to compile a Rego
  // folder) ends the start with nothing left running.
  const policySource = await bundleSource(config, config.policy.source, 'bundle-build', log);
  const engine = new OpaWasmEngine({ workers: config.policy.workers, evalTimeoutMs: config.policy.evalTimeoutMs });
  const bundleVerifier = configuredBundleVerifier(config)?.verifier;
  // The enricher reads which MCP tool arguments to analyse from the data of the bundle that answers.
  const mcpArguments = new BundleMcpArgumentRules();
  // Every bundle that answers is kept, so each recorded decision can be evaluated again (audit replay).
  const bundleArchive = new FolderBundleArchive(join(config.stateDir, BUNDLE_ARCHIVE_FOLDER));
  const bundlePublisher = config.audit.kafka
    ? new KafkaBundlePublisher({ brokers: config.audit.kafka.brokers, topicPrefix: config.audit.kafka.topicPrefix, replicationFactor: config.audit.kafka.replicationFactor, log })
    : undefined;
  const keepBundle = async (archive: Buffer, bundle: PolicyBundle): Promise<void> => {
    const { digest } = await bundleArchive.keep(bundle.revision, archive);
    bundlePublisher?.publish(bundle.revision, digest, archive);
  };
  if (bundlePublisher) for await (const kept of bundleArchive.kept()) bundlePublisher.publish(kept.revision, kept.digest, kept.archive);
  const audit = new ThreadedAuditTrail(
    {
      audit: config.audit, stateDir: config.stateDir, hostLabel: hostname(), productVersion: PRODUCT_VERSION,
      // The audit thread redacts SQL secrets with enrichment's redactor, named here where the parts are wired.
      sqlTextRedactionModule: siblingModule(import.meta.url, 'enrichment/sql/sql-text-redaction').href,
    },
    log,
  );
  await audit.start();
  metrics.observeAudit(() => audit.health());
  const activation = new PolicyActivation({
    source: policySource, engine, verifier: bundleVerifier, metrics, log,
    onActivated: (bundle) => mcpArguments.update(bundle.data),
    keep: keepBundle,
    attest: bundleAttestation(audit, 'live', config.policy.source),
  });
  const enricher = await ActionEnricher.create({ mcpArguments });
  // The store tells the broker of its own writes, and the broker audits each one.
  let broker: ApprovalBroker | undefined;
  const { store, description: storeDescription } = createApprovalStore(config.approvals, {
    onLocalWrite: (event) => broker?.auditLocalWrite(event),
    onError: (error) => log(`approvals: ${(error as Error).message}`),
  });
  broker = new ApprovalBroker({
    store,
    audit,
    maxTtlSeconds: config.approvals.maxTtlSeconds,
    maxWindowSeconds: config.approvals.maxWindowSeconds,
    maxPendingPerPrincipal: config.approvals.maxPendingPerPrincipal,
    log,
    ...(config.approvals.publicUrl ? { consoleUrl: config.approvals.publicUrl } : {}),
  });
  const approvals = broker;
  log(`approvals: ${storeDescription}`);
  metrics.observeApprovals(() => approvals.waiting);
  const shadowConfig = config.policy.shadow;
  // The candidate is held to the live policy's signature rule; it loads in the background, so a
  // slow or broken candidate never delays or stops the PDP.
  const shadow = shadowConfig && new ShadowPolicy({
    createSource: () => bundleSource(config, shadowConfig.source, 'shadow-bundle-build', log),
    description: describeSource(shadowConfig.source),
    verifier: bundleVerifier,
    attest: bundleAttestation(audit, 'shadow', shadowConfig.source),
    workers: shadowConfig.workers,
    niceness: shadowConfig.niceness,
    evalTimeoutMs: config.policy.evalTimeoutMs,
    maxQueued: shadowConfig.maxQueued,
    audit,
    metrics,
    log,
  });
  void shadow?.start();
  // A PEP's own token is refused as the principal a decision is for (docs/identity.md).
  const subjectVerifier = new SubjectTokenVerifier(verifier, { pepRole: config.identity.pepRole, pepResourcesClaim: config.identity.pepResourcesClaim });
  const decisions = new DecisionService({ subjectVerifier, enricher, engine, audit, metrics, approvals, seal, ...(shadow ? { observer: shadow.evaluator } : {}) });

  try {
    await activation.start();
  } catch (error) {
    // Keep serving: every decision is a deny until a bundle loads, and /health says why.
    log(`policy: no bundle active yet (${(error as Error).message.split('\n')[0]}); every decision is deny until one loads`);
  }

  const app = createPdpApp({
    decisions, sqlAnalyzer: enricher.sqlAnalyzer, engine, activation, shadow, audit, metrics, approvals, pepVerifier: verifier, subjectVerifier, consoleVerifier, seal, pepRole: config.identity.pepRole,
    maxBodyBytes: config.http.maxBodyBytes, dataApiAuth: config.http.dataApiAuth, log, startedAt, config,
  });
  const { server, url } = await listen(app, config.host, config.port);
  const sockets = attachApprovalSocketServer(server, {
    broker: approvals,
    verifier: consoleVerifier,
    pepVerifier: verifier,
    pepResourcesClaim: config.identity.pepResourcesClaim,
    consoleRoles: config.approvals.consoleRoles,
    pepRole: config.identity.pepRole,
    heartbeatMs: 15_000,
    authTimeoutMs: 10_000,
    maxBufferedBytes: 1024 * 1024,
    maxWaits: 1000,
    maxSockets: config.approvals.maxSockets,
    maxSocketsPerPrincipal: config.approvals.maxSocketsPerPrincipal,
    pageSize: config.approvals.pageSize,
    listedActionChars: config.approvals.listedActionChars,
    log,
  });
  metrics.observeSockets(() => sockets.connections);
  log(`listening on ${url} (policy workers: ${config.policy.workers}, audit: ${audit.health().sink}, producer ${audit.producerId})`, {
    url, policy_workers: config.policy.workers, audit_sink: audit.health().sink, producer_id: audit.producerId,
  });

  return {
    url, server, activation, devIssuer, approvals, shadow,
    flushAudit: () => audit.flush(),
    abandonAudit: (why) => audit.abandon(why),
    async close() {
      sockets.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await activation.stop();
      await shadow?.stop();
      await bundlePublisher?.close();
      await approvals.close();
      await audit.close();
      await engine.close();
    },
  };
}

/** Where a policy source reads from, for a status shown before the source exists (never credentials). */
function describeSource(source: PolicySourceConfig): string {
  switch (source.kind) {
    case 'rego-folder':
      return `rego folder ${source.folder}`;
    case 'bundle-file':
      return `bundle file ${source.path}`;
    case 'bundle-url':
      return `bundle server ${new URL(source.url).origin}`;
  }
}

/** Where a bundle came from, as its activation record states it: a URL without user, password or query values. */
function sourceProvenance(source: PolicySourceConfig): { kind: string; location: string } {
  switch (source.kind) {
    case 'rego-folder':
      return { kind: source.kind, location: source.folder };
    case 'bundle-file':
      return { kind: source.kind, location: source.path };
    case 'bundle-url':
      return { kind: source.kind, location: redactedUrl(new URL(source.url)) };
  }
}

/**
 * Writes the "bundle activated" record and waits until it is durable, before the bundle answers
 * (as a decision's record is before its answer); a record refused leaves the serving bundle.
 */
function bundleAttestation(audit: AuditRecorder, role: BundleRole, source: PolicySourceConfig): (facts: BundleActivationFacts) => Promise<void> {
  const provenance = sourceProvenance(source);
  return async (facts) => {
    const recorded = audit.record(buildBundleActivationEvent({
      role,
      revision: facts.revision,
      digest: facts.digest,
      sizeBytes: facts.sizeBytes,
      previousRevision: facts.previousRevision,
      source: provenance,
      signature: facts.signature
        ? { status: 'verified', key_id: facts.signature.keyId, key_sha256: facts.signature.keySha256, algorithm: facts.signature.algorithm }
        : { status: facts.carriesSignature ? 'not-checked' : 'unsigned' },
      host: hostname(),
    }));
    if (!recorded) throw new Error(`the audit trail refused the activation record of revision ${facts.revision}; the bundle does not answer`);
    await audit.durable();
  };
}

/** The live policy's source, or the shadow candidate's: each Rego folder is built in its own work folder. */
async function bundleSource(config: PdpConfig, source: PolicySourceConfig, workFolder: string, log: (message: string) => void): Promise<BundleSource> {
  switch (source.kind) {
    case 'rego-folder':
      return new RegoFolderBundleSource({
        folder: source.folder,
        // Only a Rego folder needs the OPA toolchain (found, or built once into the cache, and logged).
        opaPath: await opaBinary({ ...(config.policy.opaPath ? { configured: config.policy.opaPath } : {}), cacheDir: config.cacheDir, log }),
        entrypoints: [DECISION_ENTRYPOINT],
        workDir: join(config.stateDir, workFolder),
        log,
      });
    case 'bundle-file':
      return new BundleFileSource({ path: source.path });
    case 'bundle-url':
      return new HttpBundleSource({
        url: source.url,
        pollIntervalMs: source.pollSeconds * 1000,
        timeoutMs: 30_000,
        maxBytes: 256 * 1024 * 1024,
        ...(source.token ? { headers: { Authorization: `Bearer ${source.token}` } } : {}),
      });
  }
}
