// One SSH PEP between real clients (OpenSSH's ssh, scp, sftp; the ssh2 client) and a real sshd,
// deciding through a real PDP with the starter policy. Each test file starts its own stack and
// closes it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { loadPepSshConfig, startSshPep, type RunningSshPep, type SshPepExtensions } from '@portcullis/pep-ssh';
import { startTestPdp, type TestPdp } from '../support/pdp-harness.ts';
import { startTestSshd, type TestSshd } from '../support/sshd-server.ts';

export interface CommandResult {
  /** The exit status, or null when the command ended by a signal (then `signal`). */
  readonly code: number | null;
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SshPepStack {
  readonly sshd: TestSshd;
  readonly pdp: TestPdp;
  readonly pep: RunningSshPep;
  readonly port: number;
  readonly logs: string[];
  /** The environment the PEP was configured from (a test starts another PEP like it). */
  readonly pepEnvironment: Readonly<Record<string, string>>;
  /** A folder of this stack's client files: known_hosts pinning the PEP, the askpass program. */
  readonly clientDir: string;
  /** A caller's token from the PDP's dev issuer. */
  token(sub: string, roles: string[], kind?: 'agent' | 'human'): Promise<string>;
  /** A person's console session (approvers vote with it). */
  consoleToken(sub: string, roles: string[]): Promise<string>;
  /** The real OpenSSH client through the PEP, logging in as `user` (default: the token's subject) with the token as password. */
  ssh(token: string, command: string, options?: SshOptions): Promise<CommandResult>;
  /** The real ssh started through the PEP, for tests that drive or signal it. */
  spawnSsh(token: string, args: readonly string[], options?: { user?: string }): ChildProcess;
  /** The arguments and environment that make OpenSSH's tools (ssh, scp, sftp) log in through the PEP. */
  openSshArgs(token: string, options?: { user?: string; portFlag?: '-p' | '-P' }): { args: string[]; env: NodeJS.ProcessEnv; destination: string };
  /** A logged-in ssh2 client through the PEP. */
  client(token: string, config?: Partial<ConnectConfig>): Promise<Client>;
  /** One exec on an ssh2 client: its output, exit status or signal. */
  exec(client: Client, command: string, options?: { input?: string | Buffer; env?: Record<string, string> }): Promise<CommandResult>;
  close(): Promise<void>;
}

export interface SshOptions {
  readonly user?: string;
  readonly input?: string | Buffer;
  /** More ssh options before the destination (-o …, -t, -L …). */
  readonly args?: readonly string[];
}

export interface SshPepStackOptions {
  /** The policy's resource (default web-1, production). */
  readonly resource?: string;
  readonly pepEnv?: Record<string, string>;
  readonly pdpEnv?: Record<string, string>;
  readonly extensions?: SshPepExtensions;
  /** Where the PEP reaches the PDP, given the PDP's own URL (a test may put a fault-injecting proxy in front). */
  readonly pdpUrlFor?: (pdpUrl: string) => Promise<string>;
  /** The shell the test sshd runs commands with (default: the login's). */
  readonly commandShell?: string;
  /** The host-side command log (default on); sshd refuses client signals to a forced command, so a signal test turns it off. */
  readonly logCommands?: boolean;
  /** Environment the test sshd gives every session. */
  readonly hostEnv?: Readonly<Record<string, string>>;
}

export async function startSshPepStack(options: SshPepStackOptions = {}): Promise<SshPepStack> {
  const sshd = await startTestSshd({
    ...(options.commandShell ? { commandShell: options.commandShell } : {}),
    ...(options.logCommands === false ? { logCommands: false } : {}),
    ...(options.hostEnv ? { hostEnv: options.hostEnv } : {}),
  });
  const clientDir = mkdtempSync(join(tmpdir(), 'portcullis-ssh-pep-client-'));
  let pdp: TestPdp | undefined;
  try {
    pdp = await startTestPdp(options.pdpEnv);
    const resource = options.resource ?? 'web-1';
    const pepToken = await pdp.pepTokenFor([resource], `pep-${resource}`);
    const knownHosts = join(clientDir, 'pep_known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine()}\n`);
    const logs: string[] = [];
    const env = {
      PORTCULLIS_PEP_LISTEN_PORT: '0',
      PORTCULLIS_PEP_STATE_DIR: join(clientDir, 'pep-state'),
      PORTCULLIS_PEP_SSH_UPSTREAM_HOST: '127.0.0.1',
      PORTCULLIS_PEP_SSH_UPSTREAM_PORT: String(sshd.port),
      PORTCULLIS_PEP_SSH_UPSTREAM_USER: sshd.user,
      PORTCULLIS_PEP_SSH_UPSTREAM_KEY_FILE: sshd.clientKeyPath,
      PORTCULLIS_PEP_SSH_UPSTREAM_KNOWN_HOSTS: knownHosts,
      PORTCULLIS_PEP_PDP_URL: options.pdpUrlFor ? await options.pdpUrlFor(pdp.url) : pdp.url,
      PORTCULLIS_PEP_TOKEN: pepToken,
      PORTCULLIS_PEP_RESOURCE_NAME: resource,
      ...options.pepEnv,
    };
    const pep = await startSshPep(loadPepSshConfig(env), {
      env,
      log: (message, fields) => logs.push(fields ? `${message} ${JSON.stringify(fields)}` : message),
      ...(options.extensions ? { extensions: options.extensions } : {}),
    });
    const clientKnownHosts = join(clientDir, 'known_hosts');
    writeFileSync(clientKnownHosts, `[127.0.0.1]:${pep.port} ${pep.hostPublicKey}\n`);
    // ssh reads a password from a terminal or from SSH_ASKPASS: the program prints the token it is given.
    const askpass = join(clientDir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\nprintf \'%s\\n\' "$PORTCULLIS_TEST_TOKEN"\n', { mode: 0o755 });
    const testPdp = pdp;
    const clients = new Set<Client>();

    const openSshArgs: SshPepStack['openSshArgs'] = (token, { user, portFlag = '-p' } = {}) => ({
      args: [
        '-F', 'none', portFlag, String(pep.port),
        '-o', `UserKnownHostsFile=${clientKnownHosts}`, '-o', 'StrictHostKeyChecking=yes',
        '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1',
        '-o', 'ConnectTimeout=20',
      ],
      env: { PATH: process.env.PATH, HOME: clientDir, LC_ALL: 'C.UTF-8', SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: 'none', PORTCULLIS_TEST_TOKEN: token },
      destination: `${user ?? subjectOf(token)}@127.0.0.1`,
    });

    const stack: SshPepStack = {
      sshd,
      pdp: testPdp,
      pep,
      port: pep.port,
      logs,
      pepEnvironment: env,
      clientDir,
      token: (sub, roles, kind = 'agent') => testPdp.token({ sub, roles, kind }),
      consoleToken: (sub, roles) => testPdp.consoleToken({ sub, roles, kind: 'human' }),
      openSshArgs,
      ssh: (token, command, { user, input, args = [] } = {}) =>
        new Promise((resolve) => {
          const ssh = openSshArgs(token, user === undefined ? {} : { user });
          const child = execFile('ssh', [...ssh.args, ...args, ssh.destination, command], { env: ssh.env, encoding: 'buffer', maxBuffer: 512 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
            const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
            resolve({ code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') });
          });
          child.stdin!.end(input ?? '');
        }),
      spawnSsh: (token, args, { user } = {}) => {
        const ssh = openSshArgs(token, user === undefined ? {} : { user });
        return spawn('ssh', [...ssh.args, ...args.slice(0, -1), ssh.destination, ...args.slice(-1)], { env: ssh.env, stdio: ['pipe', 'pipe', 'pipe'] });
      },
      async client(token, config = {}) {
        const client = new ssh2.Client();
        await new Promise<void>((resolve, reject) => {
          client.once('ready', () => resolve());
          client.once('error', reject);
          client.connect({
            host: '127.0.0.1',
            port: pep.port,
            username: subjectOf(token),
            password: token,
            hostVerifier: (key: Buffer) => `${pep.hostPublicKey.split(' ')[1]}` === key.toString('base64'),
            readyTimeout: 20_000,
            ...config,
          });
        });
        client.on('error', () => undefined);
        clients.add(client);
        return client;
      },
      exec: (client, command, { input, env } = {}) =>
        new Promise((resolve, reject) => {
          client.exec(command, env ? { env } : {}, (error, channel: ClientChannel) => {
            if (error) return reject(error);
            const out: Buffer[] = [];
            const err: Buffer[] = [];
            let code: number | null = null;
            let signal: string | undefined;
            channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
              code = exitCode ?? null;
              if (exitSignal) signal = exitSignal;
            });
            channel.on('data', (chunk: Buffer) => out.push(chunk));
            channel.stderr.on('data', (chunk: Buffer) => err.push(chunk));
            channel.on('close', () =>
              resolve({ code, ...(signal ? { signal } : {}), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
            );
            channel.end(input ?? '');
          });
        }),
      async close() {
        for (const client of clients) client.end();
        await pep.close();
        // A test may have stopped the PDP already (outage tests).
        await testPdp.close().catch(() => undefined);
        await sshd.stop();
        rmSync(clientDir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (error) {
    await pdp?.close().catch(() => undefined);
    await sshd.stop();
    rmSync(clientDir, { recursive: true, force: true });
    throw error;
  }
}

/** The `sub` claim of a JWT (the login name a principal uses as itself). */
export function subjectOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string };
  return payload.sub;
}
