// A real OpenSSH sshd for tests (Debian's openssh-server, installed by scripts/components.sh):
// on 127.0.0.1 on a free port, with its own configuration, host key and authorized key, serving
// one throwaway login (portcullis-ssh when the tests run as root, the current user otherwise) by
// key only. Every exec, shell and SFTP session that reaches it goes through a logging ForceCommand
// first, and sftp-server logs each file operation (-l VERBOSE), so a test can prove on the host's
// side what reached it, and that what was denied did not.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './repository-root.ts';

const SSHD = '/usr/sbin/sshd';
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
/** The login scripts/components.sh creates for the tests when root. */
export const SSH_TEST_USER = 'portcullis-ssh';

/** One thing that reached the host: an exec'd command, a shell, or an SFTP session. */
export interface HostCommand {
  readonly kind: 'exec' | 'shell' | 'sftp';
  /** The command text exactly as sshd handed it over (exec); '' for a shell. */
  readonly command: string;
}

export interface TestSshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The listening sshd's process id (each connection is served by a child of it). */
  readonly pid: number;
  /** The login the server serves. */
  readonly user: string;
  /** A folder the login owns, for files the tests read and write. */
  readonly workDir: string;
  /** The private key (OpenSSH format) the server accepts for `user`. */
  readonly clientKey: string;
  readonly clientKeyPath: string;
  /** `[127.0.0.1]:port <type> <key>`: the line a known_hosts file pins the server with. */
  knownHostsLine(): string;
  /** The host key's SHA256 fingerprint as ssh-keygen prints it (SHA256:…). */
  hostKeyFingerprint(): string;
  /** Everything that reached the host so far, in order. */
  commands(): HostCommand[];
  /** sftp-server's log lines (one per file operation at VERBOSE). */
  sftpLog(): string[];
  /** What sshd itself logged (stderr). */
  readonly sshdLog: readonly string[];
  /** A new host key, and sshd restarted on the same port with it (a "changed host key"). */
  rotateHostKey(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestSshdOptions {
  /**
   * Log every session on the host side through a ForceCommand wrapper (default). Benchmarks turn
   * it off: the wrapper's own processes would weigh on the baseline they compare against.
   */
  readonly logCommands?: boolean;
  /** The shell that runs exec'd commands (default: the login's shell, as sshd itself does). */
  readonly commandShell?: string;
}

export async function startTestSshd(options: TestSshdOptions = {}): Promise<TestSshd> {
  execFileSync('bash', [join(REPOSITORY_ROOT, 'scripts/components.sh'), 'install', 'openssh'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? SSH_TEST_USER : userInfo().username;
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-sshd-'));
  // The login reads its authorized key and wrapper from here, and writes the logs.
  chmodSync(dir, 0o755);
  const logDir = join(dir, 'log');
  const workDir = join(dir, 'work');
  mkdirSync(logDir);
  mkdirSync(workDir);
  for (const owned of [logDir, workDir]) {
    chownSync(owned, uid, gid);
    chmodSync(owned, 0o755);
  }
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = join(dir, 'client_ed25519_key');
  keygen(hostKeyPath, 'portcullis-test-sshd');
  keygen(clientKeyPath, 'portcullis-test-client');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKeyPath}.pub`));
  chmodSync(authorizedKeys, 0o644);
  const commandLog = join(logDir, 'commands.log');
  const sftpLogPath = join(logDir, 'sftp.log');
  const wrapper = join(dir, 'host-command-log.sh');
  writeFileSync(wrapper, wrapperScript(commandLog, sftpLogPath, options.commandShell), { mode: 0o755 });
  const port = await freePort();
  const configPath = join(dir, 'sshd_config');
  writeFileSync(configPath, sshdConfig({ dir, port, user, hostKeyPath, authorizedKeys, wrapper: options.logCommands === false ? undefined : wrapper }));
  if (asRoot) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const sshdLog: string[] = [];
  let child = await startSshd(configPath, port, sshdLog);
  let stopped = false;
  const server: TestSshd = {
    host: '127.0.0.1',
    port,
    get pid() {
      return child.pid!;
    },
    user,
    workDir,
    clientKey: readFileSync(clientKeyPath, 'utf8'),
    clientKeyPath,
    knownHostsLine: () => {
      const [type, key] = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/);
      return `[127.0.0.1]:${port} ${type} ${key}`;
    },
    hostKeyFingerprint: () => execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKeyPath}.pub`], { encoding: 'utf8' }).split(/\s+/)[1]!,
    commands: () => readCommandLog(commandLog),
    sftpLog: () => (existsSync(sftpLogPath) ? readFileSync(sftpLogPath, 'utf8').split('\n').filter(Boolean) : []),
    sshdLog,
    async rotateHostKey() {
      await stopSshd(child);
      rmSync(hostKeyPath, { force: true });
      rmSync(`${hostKeyPath}.pub`, { force: true });
      keygen(hostKeyPath, 'portcullis-test-sshd-rotated');
      child = await startSshd(configPath, port, sshdLog);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopSshd(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

function keygen(path: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
}

// Runs as the login, in place of whatever the client asked for: one line per session (kind and
// the base64 of the command, so any byte survives), then what sshd would have run.
function wrapperScript(commandLog: string, sftpLog: string, commandShell = '"$SHELL"'): string {
  return `#!/bin/sh
log='${commandLog}'
if [ -z "\${SSH_ORIGINAL_COMMAND+set}" ]; then
  printf 'shell \\n' >>"$log"
  exec "$SHELL" -l
fi
case "$SSH_ORIGINAL_COMMAND" in
  '${SFTP_SERVER}'|internal-sftp)
    printf 'sftp %s\\n' "$(printf '%s' "$SSH_ORIGINAL_COMMAND" | base64 -w0)" >>"$log"
    exec '${SFTP_SERVER}' -e -l VERBOSE 2>>'${sftpLog}' ;;
esac
printf 'exec %s\\n' "$(printf '%s' "$SSH_ORIGINAL_COMMAND" | base64 -w0)" >>"$log"
exec ${commandShell} -c "$SSH_ORIGINAL_COMMAND"
`;
}

function sshdConfig(options: { dir: string; port: number; user: string; hostKeyPath: string; authorizedKeys: string; wrapper: string | undefined }): string {
  return `# Written by test/support/sshd-server.ts for one test file.
ListenAddress 127.0.0.1
Port ${options.port}
HostKey ${options.hostKeyPath}
PidFile ${join(options.dir, 'sshd.pid')}
AuthorizedKeysFile ${options.authorizedKeys}
# The key files live in a temporary folder, not in the login's home.
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers ${options.user}
${options.wrapper === undefined ? '' : `ForceCommand ${options.wrapper}\n`}Subsystem sftp ${SFTP_SERVER}
# The host accepts whatever arrives, so a refusal a test sees is the PEP's and not this server's.
AcceptEnv *
AllowTcpForwarding yes
AllowAgentForwarding yes
X11Forwarding no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
MaxSessions 200
MaxStartups 200:30:400
`;
}

async function startSshd(configPath: string, port: number, sshdLog: string[]): Promise<ChildProcess> {
  const child = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => sshdLog.push(...text.split('\n').filter(Boolean)));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`sshd exited during start-up (${code}): ${sshdLog.slice(-5).join(' | ')}`))),
  );
  exited.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const banner = await Promise.race([readBanner(port), exited]);
    if (banner.startsWith('SSH-2.0-')) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd on port ${port} did not answer within 15 s: ${sshdLog.slice(-5).join(' | ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The server's identification line, or '' when nothing listens yet. */
function readBanner(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(text));
  });
}

function stopSshd(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function readCommandLog(path: string): HostCommand[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, encoded = ''] = line.split(' ');
      return { kind: kind as HostCommand['kind'], command: Buffer.from(encoded, 'base64').toString('utf8') };
    });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs the real OpenSSH `ssh` client; resolves with its exit status and output. */
export function runSsh(args: readonly string[], input?: string | Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('ssh', [...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : null) : 0;
      resolve({ code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') });
    });
    child.stdin!.end(input ?? '');
  });
}
