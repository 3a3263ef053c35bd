import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from './command-args.ts';
import type { CommandOutput } from './token-command.ts';

export const KUBECONFIG_USAGE = `usage: portcullis kubeconfig --resource NAME --server URL [--token TOKEN | --token-command CMD] [--ca-file FILE] [--namespace NS] [--cli PATH]
       portcullis kubeconfig exec-credential --token-command CMD

  Prints a kubeconfig whose server is the Kubernetes PEP in front of NAME. With --token the token
  is written into it; with --token-command kubectl runs "portcullis kubeconfig exec-credential"
  (a client-go credential plugin) which runs CMD for a fresh token each time, so tokens refresh.
  --ca-file: the PEP's certificate or the CA that signed it (embedded); --cli: how kubectl starts
  portcullis (default: portcullis on PATH).`;

const EXEC_CREDENTIAL_API = 'client.authentication.k8s.io/v1';
const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/**
 * `portcullis kubeconfig`: a kubeconfig for kubectl (and every client-go or client-node client)
 * to reach a cluster through its PEP as the caller's own principal; and `exec-credential`, the
 * credential plugin that form runs. Exit codes: 0 printed, 1 the token command failed, 2 bad arguments.
 */
export async function runKubeconfigCommand(argv: string[], output: CommandOutput = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const usageError = (problem: string): number => {
    output.stderr.write(`portcullis kubeconfig: ${problem}\n${KUBECONFIG_USAGE}\n`);
    return 2;
  };
  if (argv[0] === 'exec-credential') return execCredential(argv.slice(1), output, usageError);

  let values: { resource?: string; server?: string; token?: string; 'token-command'?: string; 'ca-file'?: string; namespace?: string; cli?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        resource: { type: 'string' },
        server: { type: 'string' },
        token: { type: 'string' },
        'token-command': { type: 'string' },
        'ca-file': { type: 'string' },
        namespace: { type: 'string' },
        cli: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    output.stdout.write(`${KUBECONFIG_USAGE}\n`);
    return 0;
  }
  const resource = values.resource?.trim();
  if (!resource) return usageError('--resource is required');
  if (!RESOURCE_NAME.test(resource)) return usageError(`--resource must be a resource name (got "${resource}")`);
  const server = values.server?.trim();
  if (!server) return usageError('--server is required (the PEP, https://host:port)');
  if (!/^https:\/\/[^/]+\/?$/.test(server)) return usageError(`--server must be the PEP's https://host:port (got "${server}")`);
  const token = values.token?.trim();
  const tokenCommand = values['token-command']?.trim();
  if ((token ? 1 : 0) + (tokenCommand ? 1 : 0) !== 1) return usageError('give exactly one of --token or --token-command');
  let caData: string | undefined;
  if (values['ca-file'] !== undefined) {
    try {
      const pem = readFileSync(values['ca-file'], 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) return usageError(`--ca-file ${values['ca-file']} holds no PEM certificate`);
      caData = Buffer.from(pem, 'utf8').toString('base64');
    } catch (error) {
      return usageError(`--ca-file: cannot read ${values['ca-file']} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const namespace = values.namespace?.trim();

  const q = (value: string): string => JSON.stringify(value);
  const user = token
    ? [`      token: ${q(token)}`]
    : [
        '      exec:',
        `        apiVersion: ${EXEC_CREDENTIAL_API}`,
        `        command: ${q(values.cli ?? 'portcullis')}`,
        `        args: [${['kubeconfig', 'exec-credential', '--token-command', tokenCommand!].map(q).join(', ')}]`,
        '        interactiveMode: Never',
        '        provideClusterInfo: false',
      ];
  output.stdout.write(
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `  - name: ${q(resource)}`,
      '    cluster:',
      `      server: ${q(server.replace(/\/$/, ''))}`,
      ...(caData ? [`      certificate-authority-data: ${caData}`] : []),
      'users:',
      `  - name: ${q(`portcullis-${resource}`)}`,
      '    user:',
      ...user,
      'contexts:',
      `  - name: ${q(resource)}`,
      '    context:',
      `      cluster: ${q(resource)}`,
      `      user: ${q(`portcullis-${resource}`)}`,
      ...(namespace ? [`      namespace: ${q(namespace)}`] : []),
      `current-context: ${q(resource)}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** The credential plugin: runs the token command, prints an ExecCredential with the token and its expiry. */
async function execCredential(argv: string[], output: CommandOutput, usageError: (problem: string) => number): Promise<number> {
  let values: { 'token-command'?: string };
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { 'token-command': { type: 'string' } } }));
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  const command = values['token-command']?.trim();
  if (!command) return usageError('exec-credential needs --token-command CMD');
  let token: string;
  try {
    token = await runTokenCommand(command);
  } catch (error) {
    output.stderr.write(`portcullis kubeconfig exec-credential: the token command failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (!/^\S+$/.test(token)) {
    output.stderr.write('portcullis kubeconfig exec-credential: the token command printed no token (one word expected)\n');
    return 1;
  }
  const expiry = jwtExpiry(token);
  output.stdout.write(`${JSON.stringify({ apiVersion: EXEC_CREDENTIAL_API, kind: 'ExecCredential', status: { token, ...(expiry ? { expirationTimestamp: expiry } : {}) } })}\n`);
  return 0;
}

function runTokenCommand(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message.split('\n')[0]}${stderr.trim() ? ` (${stderr.trim().split('\n').pop()})` : ''}`));
      resolve(stdout.trim());
    });
  });
}

/** When a JWT says it expires (its `exp`, unverified: only to tell kubectl when to ask again). */
function jwtExpiry(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
  } catch {
    return undefined;
  }
}
