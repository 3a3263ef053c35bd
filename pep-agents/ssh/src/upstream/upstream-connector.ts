// Logs in to the real host with the key the PEP holds, after checking the host's key against the
// pinned known_hosts entry: an unknown, changed or revoked key ends the attempt before any
// credential is offered (ssh2 verifies the host key during the key exchange, before user auth).
import ssh2, { type Algorithms, type Client } from 'ssh2';
import type { HostKeyCheck } from '../config/pep-ssh-config.ts';
import { sha256Fingerprint } from '../host-key/key-fingerprint.ts';
import { KnownHosts, type HostKeyVerdict } from './known-hosts.ts';

export interface UpstreamConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Read per connection, so a rotated key file takes effect; never logged. */
  readonly privateKey: () => string;
  readonly knownHostsFile: string;
  readonly hostKeyCheck: HostKeyCheck;
  readonly connectTimeoutMs: number;
}

/** Why the upstream login failed, in words safe to show the client (no key, no host detail beyond the check). */
export class UpstreamRefusedError extends Error {
  constructor(
    readonly reason: 'host-key-unknown' | 'host-key-changed' | 'host-key-revoked' | 'upstream-unreachable' | 'upstream-login-failed',
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamRefusedError';
  }
}

// known_hosts key types → the host key algorithms that sign with them.
const ALGORITHMS_OF_TYPE: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
};

export class UpstreamConnector {
  private readonly knownHosts: KnownHosts;

  constructor(private readonly config: UpstreamConfig) {
    this.knownHosts = new KnownHosts(config.knownHostsFile);
  }

  /** A logged-in client, or an UpstreamRefusedError. */
  connect(): Promise<Client> {
    const { host, port } = this.config;
    const client = new ssh2.Client();
    let hostKeyProblem: UpstreamRefusedError | undefined;
    const pinned = this.knownHosts.pinnedTypes(host, port).flatMap((type) => ALGORITHMS_OF_TYPE[type] ?? []);
    // Only the pinned key types are negotiated, so the host cannot present another key it holds.
    const algorithms: Algorithms | undefined = pinned.length > 0 ? { serverHostKey: pinned as Algorithms['serverHostKey'] } : undefined;
    return new Promise((resolve, reject) => {
      const fail = (error: UpstreamRefusedError): void => {
        client.removeAllListeners('ready');
        client.on('error', () => undefined);
        client.end();
        reject(error);
      };
      client.once('ready', () => {
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        resolve(client);
      });
      client.once('error', (error: Error & { level?: string }) => {
        if (hostKeyProblem) return fail(hostKeyProblem);
        if (error.level === 'client-authentication') return fail(new UpstreamRefusedError('upstream-login-failed', 'the host refused the PEP\'s login'));
        fail(new UpstreamRefusedError('upstream-unreachable', `the host could not be reached (${error.message})`));
      });
      client.once('connect', () => client.setNoDelay(true));
      client.connect({
        host,
        port,
        username: this.config.user,
        privateKey: this.config.privateKey(),
        readyTimeout: this.config.connectTimeoutMs,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 4,
        ...(algorithms ? { algorithms } : {}),
        hostVerifier: (key: Buffer) => {
          const verdict = this.verify(key);
          if (verdict === 'match') return true;
          hostKeyProblem = refusalFor(verdict, sha256Fingerprint(key));
          return false;
        },
      });
    });
  }

  private verify(key: Buffer): HostKeyVerdict {
    const { host, port } = this.config;
    const verdict = this.knownHosts.verdict(host, port, key);
    if (verdict === 'unknown' && this.config.hostKeyCheck === 'accept-new') {
      this.knownHosts.pin(host, port, keyType(key), key);
      return 'match';
    }
    return verdict;
  }
}

function refusalFor(verdict: Exclude<HostKeyVerdict, 'match'>, fingerprint: string): UpstreamRefusedError {
  switch (verdict) {
    case 'unknown':
      return new UpstreamRefusedError('host-key-unknown', `the host's key ${fingerprint} is not pinned in known_hosts`);
    case 'changed':
      return new UpstreamRefusedError('host-key-changed', `the host's key ${fingerprint} is not the pinned one: it changed`);
    case 'revoked':
      return new UpstreamRefusedError('host-key-revoked', `the host's key ${fingerprint} is revoked in known_hosts`);
  }
}

/** The key type named inside an SSH public key blob (its first string). */
function keyType(blob: Buffer): string {
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}
