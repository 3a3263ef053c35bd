// A real etcd and kube-apiserver on 127.0.0.1 and free ports, each with its own temp folder, for
// tests: token identities (an administrator, the PEP's own identity, and any a test names), RBAC,
// an audit log of every request (the oracle of what reached the API server), an admin kubeconfig
// and the real kubectl. There is no kubelet: pods stay Pending, exec/attach/port-forward stop at
// the API server.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.ts';
import { freePort } from './redis-server.ts';
import { REPOSITORY_ROOT } from './repository-root.ts';
import { createTestCa, issueCertificate, type CertificateFiles } from './test-certificates.ts';

/** One identity of the API server's token file. */
export interface KubeIdentity {
  readonly user: string;
  readonly groups: readonly string[];
}

export interface KubeCommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlOptions {
  /** The kubeconfig kubectl uses (default: the administrator's, straight to the API server). */
  readonly kubeconfig?: string;
  readonly input?: string | Buffer;
  /** More environment (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, …). */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** One event of the API server's audit log (audit.k8s.io/v1 Event), the fields tests read. */
export interface KubeAuditEvent {
  readonly auditID: string;
  readonly stage: string;
  readonly verb: string;
  readonly requestURI: string;
  readonly user: { readonly username: string; readonly groups?: readonly string[] };
  readonly impersonatedUser?: { readonly username: string; readonly groups?: readonly string[] };
  readonly objectRef?: { readonly resource?: string; readonly namespace?: string; readonly name?: string; readonly subresource?: string };
  readonly responseStatus?: { readonly code?: number; readonly message?: string };
  readonly requestObject?: unknown;
  readonly [field: string]: unknown;
}

export interface KubeApiServerOptions {
  /** More token identities, by name; each gets a token (`tokenOf(name)`). */
  readonly identities?: Readonly<Record<string, KubeIdentity>>;
  /** More kube-apiserver flags. */
  readonly extraArgs?: readonly string[];
}

/** The administrator (system:masters) and the PEP's identity (system:masters: every verb, impersonation included). */
export const ADMIN_IDENTITY: KubeIdentity = { user: 'kube-admin', groups: ['system:masters'] };
export const PEP_IDENTITY: KubeIdentity = { user: 'portcullis-pep', groups: ['system:masters'] };

export interface TestKubeApiServer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** The CA that signed the API server's serving certificate (and that its client certificates are checked against). */
  readonly caFile: string;
  readonly adminToken: string;
  /** The PEP's own credential: a token of PEP_IDENTITY. */
  readonly pepToken: string;
  /** A client certificate of PEP_IDENTITY (the PEP's credential in its client-certificate form). */
  readonly pepClientCertificate: CertificateFiles;
  /** The administrator's kubeconfig, straight to the API server. */
  readonly adminKubeconfig: string;
  readonly auditLogPath: string;
  /** The folder of this server's files; a test may put its own files here. */
  readonly dir: string;
  /** The kubectl binary. */
  readonly kubectlPath: string;
  /** The token of an identity given in the options (or 'admin', 'pep'). */
  tokenOf(name: string): string;
  /** A kubeconfig for `server` (default: the API server) with a bearer token, written to this server's folder. */
  writeKubeconfig(name: string, options: { token: string; server?: string; caFile?: string }): string;
  /** The real kubectl. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<KubeCommandResult>;
  /** kubectl that must succeed: its stdout (the error names the command and its stderr). */
  kubectlOk(args: readonly string[], options?: KubectlOptions): Promise<string>;
  /** A namespace with its `default` service account (no controller manager makes one; pods need it). */
  createNamespace(name: string): Promise<void>;
  /** The audit log as written so far. */
  auditEvents(): KubeAuditEvent[];
  /**
   * The audit log once everything sent before this call has been written: a marker request is
   * made and waited for. Assert that something never reached the API server on this.
   */
  settledAuditEvents(): Promise<KubeAuditEvent[]>;
  /** The process ids of the running etcd and kube-apiserver (benches read their CPU time). */
  pids(): { readonly etcd: number; readonly apiserver: number };
  /** What etcd and kube-apiserver printed (for failures). */
  readonly output: () => string;
  stop(): Promise<void>;
}

const COMPONENTS = join(REPOSITORY_ROOT, 'scripts/components.sh');
const MARKER_NAMESPACE_PREFIX = 'portcullis-audit-marker-';

function componentPath(name: string): string {
  return execFileSync('bash', [COMPONENTS, 'path', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

/** etcd, then kube-apiserver, both ready; a port taken meanwhile is retried on another. */
export async function startTestKubeApiServer(options: KubeApiServerOptions = {}): Promise<TestKubeApiServer> {
  const binDir = componentPath('kubernetes-bin');
  const etcdBinary = componentPath('etcd');
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-kube-'));
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const stopAll = async (): Promise<void> => {
    for (const child of [...children].reverse()) await stopChild(child);
  };
  try {
    const etcdPort = await startWithRetry('etcd', output, async () => {
      const clientPort = await freePort();
      const peerPort = await freePort();
      const dataDir = join(dir, `etcd-${clientPort}`);
      const child = spawn(etcdBinary, [
        '--name', 'test', '--data-dir', dataDir,
        '--listen-client-urls', `http://127.0.0.1:${clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
        '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
        '--initial-cluster', `test=http://127.0.0.1:${peerPort}`,
        '--listen-metrics-urls', '', '--log-level', 'error', '--unsafe-no-fsync',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      capture(child, 'etcd', output);
      children.push(child);
      await untilReady(child, 'etcd', () => httpOk(`http://127.0.0.1:${clientPort}/health`));
      return clientPort;
    });

    const ca = createTestCa(dir, 'kube-ca');
    const serving = issueCertificate(ca, dir, 'kube-apiserver', { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const pepClientCertificate = clientCertificate(ca, dir, PEP_IDENTITY);
    const serviceAccountKey = join(dir, 'service-account.key');
    const serviceAccountPublicKey = join(dir, 'service-account.pub');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', serviceAccountKey], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('openssl', ['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPublicKey], { stdio: ['ignore', 'ignore', 'pipe'] });

    const identities: Record<string, KubeIdentity> = { admin: ADMIN_IDENTITY, pep: PEP_IDENTITY, ...options.identities };
    const tokens = new Map(Object.keys(identities).map((name) => [name, randomBytes(24).toString('hex')]));
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, Object.entries(identities).map(([name, identity]) => `${tokens.get(name)},${identity.user},uid-${name},"${identity.groups.join(',')}"`).join('\n') + '\n');
    const auditPolicy = join(dir, 'audit-policy.yaml');
    // Request level: the request's object is in the log, so a test sees what a write stored.
    writeFileSync(auditPolicy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n  - level: Request\n');
    const auditLogPath = join(dir, 'audit.log');
    const adminToken = tokens.get('admin')!;

    const apiPort = await startWithRetry('kube-apiserver', output, async () => {
      const port = await freePort();
      const certDir = join(dir, `certs-${port}`);
      mkdirSync(certDir, { recursive: true });
      const child = spawn(join(binDir, 'kube-apiserver'), [
        '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${port}`,
        `--cert-dir=${certDir}`, `--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`,
        `--client-ca-file=${ca.certFile}`,
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--service-account-issuer=https://kubernetes.default.svc`, `--service-account-key-file=${serviceAccountPublicKey}`,
        `--service-account-signing-key-file=${serviceAccountKey}`, '--api-audiences=https://kubernetes.default.svc',
        '--authorization-mode=Node,RBAC', `--token-auth-file=${tokenFile}`,
        `--audit-policy-file=${auditPolicy}`, `--audit-log-path=${auditLogPath}`, '--audit-log-mode=blocking',
        '--endpoint-reconciler-type=none', '--service-cluster-ip-range=10.96.0.0/16', '--allow-privileged=true',
        '--enable-priority-and-fairness=false', '--v=0',
        ...(options.extraArgs ?? []),
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      capture(child, 'kube-apiserver', output);
      children.push(child);
      await untilReady(child, 'kube-apiserver', () => httpsOk(`https://127.0.0.1:${port}/readyz`, ca.certFile, adminToken), 90_000);
      return port;
    });

    const url = `https://127.0.0.1:${apiPort}`;
    const kubectlPath = join(binDir, 'kubectl');
    const writeKubeconfig: TestKubeApiServer['writeKubeconfig'] = (name, { token, server = url, caFile = ca.certFile }) => {
      const file = join(dir, `${name}.kubeconfig`);
      writeFileSync(file, kubeconfigText(server, caFile, token), { mode: 0o600 });
      return file;
    };
    const adminKubeconfig = writeKubeconfig('admin', { token: adminToken });
    const kubectl: TestKubeApiServer['kubectl'] = (args, { kubeconfig = adminKubeconfig, input, env, timeoutMs = 60_000 } = {}) =>
      new Promise((resolve) => {
        const child = execFile(
          kubectlPath,
          [...args],
          { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, ...env }, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs },
          (error, stdout, stderr) => {
            const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
            resolve({ code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') });
          },
        );
        child.stdin!.end(input ?? '');
      });
    const kubectlOk: TestKubeApiServer['kubectlOk'] = async (args, options) => {
      const result = await kubectl(args, options);
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
      return result.stdout;
    };
    const auditEvents = (): KubeAuditEvent[] =>
      existsSync(auditLogPath)
        ? readFileSync(auditLogPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as KubeAuditEvent)
        : [];

    return {
      url,
      port: apiPort,
      caFile: ca.certFile,
      adminToken,
      pepToken: tokens.get('pep')!,
      pepClientCertificate,
      adminKubeconfig,
      auditLogPath,
      dir,
      kubectlPath,
      tokenOf(name) {
        const token = tokens.get(name);
        if (token === undefined) throw new Error(`no identity named ${name}`);
        return token;
      },
      writeKubeconfig,
      kubectl,
      kubectlOk,
      async createNamespace(name) {
        await kubectlOk(['create', 'namespace', name]);
        // The ServiceAccount admission plugin refuses pods whose service account does not exist.
        await kubectlOk(['create', 'serviceaccount', 'default', '-n', name]);
      },
      auditEvents,
      async settledAuditEvents() {
        const marker = `${MARKER_NAMESPACE_PREFIX}${randomUUID()}`;
        await kubectl(['get', 'namespace', marker, '--ignore-not-found']);
        await eventually(`the audit log records the marker request ${marker}`, () => auditEvents().some((event) => event.requestURI.includes(marker)));
        return auditEvents().filter((event) => !event.requestURI.includes(MARKER_NAMESPACE_PREFIX));
      },
      pids() {
        const running = (binary: string): number =>
          children.find((child) => child.exitCode === null && child.signalCode === null && child.spawnfile.split('/').pop()!.startsWith(binary))?.pid ?? 0;
        return { etcd: running('etcd'), apiserver: running('kube-apiserver') };
      },
      output: () => output.join(''),
      async stop() {
        await stopAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopAll();
    const detail = output.join('').split('\n').slice(-30).join('\n');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${detail}`, { cause: error });
  }
}

/** A kubeconfig with one cluster, one bearer-token user and one context (the current one). */
export function kubeconfigText(server: string, caFile: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: test',
    '    cluster:',
    `      server: ${server}`,
    `      certificate-authority: ${caFile}`,
    'users:',
    '  - name: test',
    '    user:',
    `      token: ${token}`,
    'contexts:',
    '  - name: test',
    '    context:',
    '      cluster: test',
    '      user: test',
    'current-context: test',
    '',
  ].join('\n');
}

/** A client certificate the API server reads as `identity` (CN is the user, each O a group). */
function clientCertificate(ca: CertificateFiles, dir: string, identity: KubeIdentity): CertificateFiles {
  const files = { certFile: join(dir, `${identity.user}-client.crt`), keyFile: join(dir, `${identity.user}-client.key`) };
  const csr = join(dir, `${identity.user}-client.csr`);
  const config = join(dir, `${identity.user}-client.cnf`);
  writeFileSync(config, ['[req]', 'distinguished_name = dn', '[dn]', '[ext]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = clientAuth', ''].join('\n'));
  const subject = `/CN=${identity.user}${identity.groups.map((group) => `/O=${group}`).join('')}`;
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', files.keyFile, '-out', csr, '-subj', subject, '-config', config]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(Date.now()), '-days', '2', '-sha256', '-extfile', config, '-extensions', 'ext', '-out', files.certFile]);
  return files;
}

async function startWithRetry<T>(what: string, output: readonly string[], start: () => Promise<T>): Promise<T> {
  let lastError: unknown;
  // A free port may be taken by another process between picking it and binding it: that, and only that, is retried.
  for (let attempt = 0; attempt < 3; attempt++) {
    const seen = output.length;
    try {
      return await start();
    } catch (error) {
      lastError = error;
      if (!output.slice(seen).some((line) => line.includes('address already in use'))) throw error;
    }
  }
  throw new Error(`${what} did not start: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

async function untilReady(child: ChildProcess, what: string, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`${what} exited with ${code ?? signal}`))));
  exited.catch(() => undefined);
  await Promise.race([exited, eventually(`${what} is ready`, ready, { timeoutMs, intervalMs: 100 })]);
}

function capture(child: ChildProcess, name: string, output: string[]): void {
  const keep = (chunk: Buffer): void => {
    output.push(`[${name}] ${chunk.toString('utf8')}`);
    if (output.length > 2000) output.splice(0, output.length - 2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

function httpsOk(url: string, caFile: string, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpsRequest(url, { ca: readFileSync(caFile), headers: { authorization: `Bearer ${token}` }, timeout: 5_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
    request.end();
  });
}
