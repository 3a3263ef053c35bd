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
import { loadPepSshConfig, type PepSshConfig } from './config/pep-ssh-config.ts';
import { sshFileExtensions } from './files/ssh-file-extensions.ts';
import { loadOrCreateHostKey } from './host-key/host-key-store.ts';
import { PepSshServer } from './server/pep-ssh-server.ts';
import type { SshPepExtensions } from './server/ssh-connection-context.ts';
import { StartupGate } from './server/startup-gate.ts';
import { checkUpstreamShell } from './upstream/upstream-shell-check.ts';
import { UpstreamConnector } from './upstream/upstream-connector.ts';

export type { ChannelSetup, SshConnectionContext, SshExecHandler, SshPepExtensions } from './server/ssh-connection-context.ts';
export { loadPepSshConfig, type PepSshConfig } from './config/pep-ssh-config.ts';
export { EXIT_BAD_REQUEST, EXIT_DENIED, EXIT_RETRY_LATER, EXIT_UPSTREAM_UNAVAILABLE } from './exec/exit-statuses.ts';

export interface RunningSshPep {
  readonly host: string;
  readonly port: number;
  /** The PEP's host key fingerprint (SHA256:…), for clients to pin. */
  readonly hostKeyFingerprint: string;
  /** `<type> <base64>` of the PEP's host key, for a known_hosts line. */
  readonly hostPublicKey: string;
  /** Sessions open now, and whether the session record keeps up (commands are refused while it does not). */
  health(): PdpConnectionHealth & { readonly sessions: number };
  /** Ends every session, ships the session records still queued, closes the PDP connections. */
  close(): Promise<void>;
}

export interface SshPepOptions {
  /** The process log; by default JSON lines on standard error (readable lines on a terminal). */
  readonly log?: LogFunction;
  /** Where secrets named by `*_env` settings are read from. */
  readonly env?: NodeJS.ProcessEnv;
  /** SFTP and legacy scp; by default the files part (`sshFileExtensions`). */
  readonly extensions?: SshPepExtensions;
}

/** The composition root of the SSH PEP: builds every part from config, checks the host, and listens. */
export async function startSshPep(config: PepSshConfig, options: SshPepOptions = {}): Promise<RunningSshPep> {
  const log = options.log ?? logFunction(createProcessLogger({ name: 'portcullis-pep-ssh', ...(options.env ? { env: options.env } : {}) }));
  const env = options.env ?? process.env;
  const resource: ResourceV1 = { type: 'ssh', name: config.resource.name, ...(config.resource.environment ? { environment: config.resource.environment } : {}) };

  const hostKey = loadOrCreateHostKey(config.stateDir);
  const upstream = new UpstreamConnector({
    host: config.upstream.host,
    port: config.upstream.port,
    user: config.upstream.user,
    privateKey: secretReader(config.upstream.privateKey, env),
    knownHostsFile: config.upstream.knownHostsFile,
    hostKeyCheck: config.upstream.hostKeyCheck,
    connectTimeoutMs: config.upstream.connectTimeoutMs,
  });
  // Before serving anyone: the host is the pinned one, the PEP's key logs in, and its shell is the one the PDP models.
  const probe = await upstream.connect();
  let shellVersion: string;
  try {
    shellVersion = await checkUpstreamShell(probe, config.upstream.shell, config.upstream.connectTimeoutMs);
  } finally {
    probe.end();
  }

  const pdp = new PdpConnection(config.pdp, { log, env, maskKinds: ['byte-stream'] });
  const server = new PepSshServer(
    {
      hostKey: hostKey.privateKey,
      resource,
      authorizer: pdp.authorizer(resource),
      recorders: pdp.recorders(resource, 'shell'),
      terminalRecorders: (recording) => new TerminalRecorder({ sink: pdp.sink, protocol: 'shell', resource, ...recording }),
      upstream,
      strategies: createMaskStrategyRegistry({ hashKey: maskHashKeyFromEnv(env) }),
      envAllowList: config.envAllowList,
      extensions: options.extensions ?? sshFileExtensions(),
      loginTimeoutMs: config.limits.loginTimeoutMs,
      maxSessionsPerConnection: config.limits.maxSessionsPerConnection,
      startups: new StartupGate(config.limits.maxStartups, config.limits.maxStartupsPerSource),
      log,
    },
    config.limits.maxConnections,
  );
  const address = await server.listen(config.listen.host, config.listen.port);
  log(
    `listening on ${address.address}:${address.port} for ${resource.name}, host key ${hostKey.fingerprint}${hostKey.created ? ' (created now)' : ''}, upstream ${config.upstream.user}@${config.upstream.host}:${config.upstream.port} (${config.upstream.shell} ${shellVersion}, host key check ${config.upstream.hostKeyCheck}), PDP ${config.pdp.url}`,
    {
      address: address.address,
      port: address.port,
      resource: resource.name,
      host_key_fingerprint: hostKey.fingerprint,
      upstream: `${config.upstream.host}:${config.upstream.port}`,
      upstream_shell: `${config.upstream.shell} ${shellVersion}`,
      pdp: config.pdp.url,
    },
  );

  return {
    host: address.address,
    port: address.port,
    hostKeyFingerprint: hostKey.fingerprint,
    hostPublicKey: hostKey.publicKey,
    health: () => ({ ...pdp.health(), sessions: server.sessionCount }),
    async close() {
      await server.close();
      await pdp.close();
    },
  };
}

/** `portcullis-pep-ssh`: config from the environment, stop on SIGINT/SIGTERM. */
export async function runFromEnvironment(env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createProcessLogger({ name: 'portcullis-pep-ssh', env });
  const pep = await startSshPep(loadPepSshConfig(env), { env, log: logFunction(logger) });
  // Printed plainly as well, so whoever starts the PEP can pin it: ssh-keygen -l prints the same.
  process.stderr.write(`portcullis-pep-ssh: host key fingerprint ${pep.hostKeyFingerprint}\n`);
  stopOnSignals(() => pep.close(), (error) => logger.error({ err: error }, `shutdown failed: ${error instanceof Error ? error.message : String(error)}`));
}
