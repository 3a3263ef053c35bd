import { readFileSync } from 'node:fs';
import {
  createMaskStrategyRegistry,
  createProcessLogger,
  logFunction,
  maskHashKeyFromEnv,
  PdpConnection,
  secretReader,
  stopOnSignals,
  TerminalRecorder,
  type LogFunction,
  type PdpConnectionHealth,
  type ResourceV1,
} from '@portcullis/pep-core';
import { loadPepKubernetesConfig, type PepKubernetesConfig } from './config/pep-kubernetes-config.ts';
import { KubeProtocolAdapter } from './decisions/kube-protocol-adapter.ts';
import { DiscoveryCache } from './discovery/discovery-cache.ts';
import { impersonationFor } from './pipeline/impersonation-policy.ts';
import { KUBE_MASK_KINDS } from './pipeline/kube-masks.ts';
import { RequestPipeline } from './pipeline/request-pipeline.ts';
import { MaskingResponseRelay } from './responses/masking-response-relay.ts';
import type { ResponseRelay } from './pipeline/response-relay.ts';
import type { UpgradeHandler } from './pipeline/upgrade-handler.ts';
import { handleUpgrade } from './upgrades/upgrade-handler.ts';
import type { WriteResolver } from './pipeline/write-resolution.ts';
import { KubePepServer } from './server/kube-pep-server.ts';
import { loadServingCertificate } from './tls/serving-certificate.ts';
import { HttpsKubeUpstream, type UpstreamCredential } from './upstream/https-kube-upstream.ts';
import { createWriteResolver } from './writes/resolve-write.ts';

export { loadPepKubernetesConfig, type PepKubernetesConfig } from './config/pep-kubernetes-config.ts';
export type { KubeRequest } from './request/kube-request.ts';
export type { Impersonation, KubeUpstream, KubeUpstreamRequest } from './upstream/kube-upstream.ts';
export type { WriteResolution, WriteResolver } from './pipeline/write-resolution.ts';
export type { RelayOutcome, ResponsePlan, ResponseRelay } from './pipeline/response-relay.ts';
export type { UpgradeContext, UpgradeHandler } from './pipeline/upgrade-handler.ts';
export type { KubeStatus } from './status/kube-status.ts';

export interface RunningKubernetesPep {
  readonly host: string;
  readonly port: number;
  /** https://host:port, for a kubeconfig's server. */
  readonly url: string;
  /** The PEP's serving certificate (PEM), for a kubeconfig's certificate-authority when it is self-signed. */
  readonly certificatePem: string;
  /** Its SHA-256 fingerprint (AA:BB:…). */
  readonly certificateFingerprint: string;
  /** Sessions open now, and whether the session record keeps up (requests are refused while it does not). */
  health(): PdpConnectionHealth & { readonly sessions: number };
  /** Stops accepting, lets requests in flight finish briefly, ends every session, ships the records, closes the PDP connections. */
  close(): Promise<void>;
}

/** The parts the other concerns of the PEP plug in; each has a default that keeps the PEP safe without it. */
export interface KubernetesPepParts {
  /** Creates, updates and patches resolved to what they store (default: the writes resolver, src/writes/). */
  readonly resolveWrite?: WriteResolver;
  /** Answers relayed (default: masked by the decision's json-path and byte-stream obligations). */
  readonly relay?: ResponseRelay;
  /** exec, attach, port-forward (default: decided, relayed and recorded by upgrades/). */
  readonly upgrade?: UpgradeHandler;
}

export interface KubernetesPepOptions {
  /** The process log; by default JSON lines on standard error (readable lines on a terminal). */
  readonly log?: LogFunction;
  /** Where secrets named by `*_env` settings are read from. */
  readonly env?: NodeJS.ProcessEnv;
  readonly parts?: KubernetesPepParts;
}

/** The composition root of the Kubernetes PEP: builds every part from config and listens. */
export async function startKubernetesPep(config: PepKubernetesConfig, options: KubernetesPepOptions = {}): Promise<RunningKubernetesPep> {
  const log = options.log ?? logFunction(createProcessLogger({ name: 'portcullis-pep-kubernetes', ...(options.env ? { env: options.env } : {}) }));
  const env = options.env ?? process.env;
  const resource: ResourceV1 = { type: 'kubernetes', name: config.resource.name, ...(config.resource.environment ? { environment: config.resource.environment } : {}) };
  const strategies = createMaskStrategyRegistry({ hashKey: maskHashKeyFromEnv(env) });
  const parts = { resolveWrite: createWriteResolver(), relay: new MaskingResponseRelay(strategies), upgrade: handleUpgrade, ...options.parts };

  const certificate = loadServingCertificate(config.tls, config.stateDir, config.tlsNames);
  const upstream = new HttpsKubeUpstream({
    url: config.upstream.url,
    ca: readFileSync(config.upstream.caFile, 'utf8'),
    credential: upstreamCredential(config, env),
    ...(config.upstream.serverName ? { serverName: config.upstream.serverName } : {}),
    connectTimeoutMs: config.upstream.connectTimeoutMs,
  });
  const pdp = new PdpConnection(config.pdp, { log, env, maskKinds: KUBE_MASK_KINDS });
  const adapter = new KubeProtocolAdapter(parts.relay);
  const pipeline = new RequestPipeline({
    upstream,
    resolveWrite: parts.resolveWrite,
    relay: parts.relay,
    discovery: new DiscoveryCache(config.limits.discoveryCacheMs),
    impersonation: config.impersonation,
    maxBodyBytes: config.limits.maxBodyBytes,
    log,
  });
  const server = new KubePepServer({
    tls: certificate,
    pipeline,
    upgrade: parts.upgrade,
    upgradeContext: {
      upstream,
      impersonationFor: (answer) => impersonationFor(config.impersonation, answer) ?? undefined,
      terminalRecorder: (session, recording) =>
        new TerminalRecorder({ sink: pdp.sink, protocol: 'kubernetes', resource, session: { id: session.id, ...(session.clientAddr ? { client_addr: session.clientAddr } : {}) }, subjectToken: session.subjectToken, ...recording }),
      log,
    },
    session: { adapter, authorizer: pdp.authorizer(resource), recorders: pdp.recorders(resource, 'kubernetes'), log },
    identityHeaders: config.identityHeaders,
    maxBodyBytes: config.limits.maxBodyBytes,
    maxConnections: config.limits.maxConnections,
    log,
  });
  const address = await server.listen(config.listen.host, config.listen.port);
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  log(
    `listening on https://${host}:${address.port} for ${resource.name}, upstream ${config.upstream.url.origin} (${config.upstream.credential.kind}, impersonation ${config.impersonation.enabled ? 'on' : 'off'}), PDP ${config.pdp.url}`,
    {
      address: address.address,
      port: address.port,
      resource: resource.name,
      upstream: config.upstream.url.origin,
      certificate: certificate.source,
      certificate_fingerprint: certificate.fingerprint,
      certificate_created: certificate.created,
      pdp: config.pdp.url,
    },
  );

  return {
    host: address.address,
    port: address.port,
    url: `https://${host}:${address.port}`,
    certificatePem: certificate.cert,
    certificateFingerprint: certificate.fingerprint,
    health: () => ({ ...pdp.health(), sessions: server.sessionCount }),
    async close() {
      await server.close();
      upstream.close();
      await pdp.close();
    },
  };
}

function upstreamCredential(config: PepKubernetesConfig, env: NodeJS.ProcessEnv): UpstreamCredential {
  const credential = config.upstream.credential;
  if (credential.kind === 'token') return { kind: 'token', token: secretReader(credential.token, env) };
  return { kind: 'client-certificate', cert: secretReader({ file: credential.certFile }, env), key: secretReader({ file: credential.keyFile }, env) };
}

/** `portcullis-pep-kubernetes`: config from the environment, stop on SIGINT/SIGTERM. */
export async function runFromEnvironment(env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createProcessLogger({ name: 'portcullis-pep-kubernetes', env });
  const pep = await startKubernetesPep(loadPepKubernetesConfig(env), { env, log: logFunction(logger) });
  // Printed plainly as well, so whoever starts the PEP can pin its certificate.
  process.stderr.write(`portcullis-pep-kubernetes: TLS certificate fingerprint ${pep.certificateFingerprint}\n`);
  stopOnSignals(() => pep.close(), (error) => logger.error({ err: error }, `shutdown failed: ${error instanceof Error ? error.message : String(error)}`));
}
