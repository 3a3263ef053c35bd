// One Kubernetes PEP between the real kubectl (and other clients) and a real kube-apiserver,
// deciding through a real PDP with the starter policy (resource prod-cluster). Each test file
// starts its own stack and closes it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPepKubernetesConfig, startKubernetesPep, type KubernetesPepParts, type RunningKubernetesPep } from '@portcullis/pep-kubernetes';
import { kubeconfigText, startTestKubeApiServer, type KubeApiServerOptions, type KubeCommandResult, type KubectlOptions, type TestKubeApiServer } from '../support/kube-apiserver.ts';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { createTestCa, issueCertificate } from '../support/test-certificates.ts';

export interface KubePepStack {
  readonly kube: TestKubeApiServer;
  readonly pdp: TestPdp;
  readonly pep: RunningKubernetesPep;
  /** What the PEP logged. */
  readonly logs: string[];
  /** The environment the PEP was configured from (a test starts another PEP like it). */
  readonly pepEnvironment: Readonly<Record<string, string>>;
  /** The CA that signed the PEP's serving certificate (a kubeconfig through the PEP trusts it). */
  readonly pepCaFile: string;
  /** A folder of this stack's client files. */
  readonly clientDir: string;
  /** A caller's token from the PDP's dev issuer. */
  token(sub: string, roles: string[], kind?: 'agent' | 'human'): Promise<string>;
  /** A person's console session (approvers vote with it). */
  consoleToken(sub: string, roles: string[]): Promise<string>;
  /** A kubeconfig whose server is the PEP and whose user token is `token`. */
  kubeconfig(token: string): string;
  /** The real kubectl through the PEP as the token's principal. */
  kubectl(token: string, args: readonly string[], options?: Omit<KubectlOptions, 'kubeconfig'>): Promise<KubeCommandResult>;
  /** Any HTTPS request to the PEP as a client would send it (raw path, headers), for what kubectl will not send. */
  request(options: { method?: string; target: string; token?: string; headers?: Record<string, string | string[]>; body?: string | Buffer }): Promise<{ status: number; headers: Record<string, unknown>; body: string }>;
  close(): Promise<void>;
}

export interface KubePepStackOptions {
  /** The policy's resource (default prod-cluster, production). */
  readonly resource?: string;
  readonly pepEnv?: Record<string, string>;
  readonly pdpEnv?: Record<string, string>;
  readonly kube?: KubeApiServerOptions;
  readonly parts?: KubernetesPepParts;
  /** Where the PEP reaches the PDP, given the PDP's own URL (a test may put a fault-injecting proxy in front). */
  readonly pdpUrlFor?: (pdpUrl: string) => Promise<string>;
}

export async function startKubePepStack(options: KubePepStackOptions = {}): Promise<KubePepStack> {
  const kube = await startTestKubeApiServer(options.kube);
  const clientDir = mkdtempSync(join(tmpdir(), 'portcullis-kube-pep-client-'));
  let pdp: TestPdp | undefined;
  try {
    pdp = await startTestPdp(options.pdpEnv);
    const resource = options.resource ?? 'prod-cluster';
    const pepToken = await pdp.pepTokenFor([resource], `pep-${resource}`);
    const pepCa = createTestCa(clientDir, 'pep-ca');
    const serving = issueCertificate(pepCa, clientDir, 'pep-serving', { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const logs: string[] = [];
    const env: Record<string, string> = {
      PORTCULLIS_PEP_LISTEN_PORT: '0',
      PORTCULLIS_PEP_STATE_DIR: join(clientDir, 'pep-state'),
      PORTCULLIS_PEP_TLS_CERT_FILE: serving.certFile,
      PORTCULLIS_PEP_TLS_KEY_FILE: serving.keyFile,
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_URL: kube.url,
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_CA_FILE: kube.caFile,
      PORTCULLIS_PEP_KUBERNETES_UPSTREAM_TOKEN: kube.pepToken,
      PORTCULLIS_PEP_PDP_URL: options.pdpUrlFor ? await options.pdpUrlFor(pdp.url) : pdp.url,
      PORTCULLIS_PEP_TOKEN: pepToken,
      PORTCULLIS_PEP_RESOURCE_NAME: resource,
      ...options.pepEnv,
    };
    const pep = await startKubernetesPep(loadPepKubernetesConfig(env), {
      env,
      log: (message, fields) => logs.push(fields ? `${message} ${JSON.stringify(fields)}` : message),
      ...(options.parts ? { parts: options.parts } : {}),
    });
    const testPdp = pdp;
    let configs = 0;
    const kubeconfig = (token: string): string => {
      const file = join(clientDir, `client-${++configs}.kubeconfig`);
      writeFileSync(file, kubeconfigText(pep.url, pepCa.certFile, token), { mode: 0o600 });
      return file;
    };
    return {
      kube,
      pdp: testPdp,
      pep,
      logs,
      pepEnvironment: env,
      pepCaFile: pepCa.certFile,
      clientDir,
      token: (sub, roles, kind = 'agent') => testPdp.token({ sub, roles, kind }),
      consoleToken: (sub, roles) => testPdp.consoleToken({ sub, roles, kind: 'human' }),
      kubeconfig,
      kubectl: (token, args, kubectlOptions = {}) => kube.kubectl(args, { ...kubectlOptions, kubeconfig: kubeconfig(token) }),
      request: (request) => rawRequest(pep.port, pepCa.certFile, request),
      async close() {
        await pep.close();
        // A test may have stopped the PDP already (outage tests).
        await testPdp.close().catch(() => undefined);
        await kube.stop();
        rmSync(clientDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await pdp?.close().catch(() => undefined);
    await kube.stop();
    rmSync(clientDir, { recursive: true, force: true });
    throw error;
  }
}

/** One HTTPS/1.1 request with the target written as given (no URL normalisation on the way). */
async function rawRequest(
  port: number,
  caFile: string,
  { method = 'GET', target, token, headers = {}, body }: { method?: string; target: string; token?: string; headers?: Record<string, string | string[]>; body?: string | Buffer },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { request } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port, method, path: target, ca: readFileSync(caFile), agent: false, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
