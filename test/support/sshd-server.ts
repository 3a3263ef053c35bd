// A real OpenSSH sshd for tests (Debian's openssh-server, installed by scripts/components.sh):
// on 127.0.0.1 on a free port, with its own configuration, host key and authorized key, serving
// one throwaway login (portcullis-ssh when the tests run as root, the current user otherwise) by
// key only. Every exec, shell and SFTP session that reaches it goes through a logging ForceCommand
// first, and sftp-server logs each file operation (-l VERBOSE), so a test can prove on the host's
// side what reached it, and that what was denied did not.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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
  /** The exec'd command texts among them, in order. */
  execs(): string[];
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
  /** Environment sshd gives every session (its SetEnv), e.g. a host whose locale is not UTF-8. */
  readonly hostEnv?: Readonly<Record<string, string>>;
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
  const configPath = join(dir, 'sshd_config');
  if (asRoot) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const sshdLog: string[] = [];
  // A free port can be taken by another suite's service before sshd binds it: then sshd says so
  // and exits, and it is started again on another one.
  let port = 0;
  let child!: ChildProcess;
  for (let attempt = 1; ; attempt += 1) {
    port = await freePort();
    writeFileSync(configPath, sshdConfig({ dir, port, user, hostKeyPath, authorizedKeys, wrapper: options.logCommands === false ? undefined : wrapper, hostEnv: options.hostEnv ?? {} }));
    try {
      child = await startSshd(configPath, port, sshdLog);
      break;
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 5) throw error;
    }
  }
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
    execs: () => readCommandLog(commandLog).filter((entry) => entry.kind === 'exec').map((entry) => entry.command),
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

function sshdConfig(options: { dir: string; port: number; user: string; hostKeyPath: string; authorizedKeys: string; wrapper: string | undefined; hostEnv: Readonly<Record<string, string>> }): string {
  return `# Written by test/support/sshd-server.ts for one test file.
ListenAddress 127.0.0.1
Port ${options.port}
${Object.keys(options.hostEnv).length === 0 ? '' : `SetEnv ${Object.entries(options.hostEnv).map(([name, value]) => `${name}=${value}`).join(' ')}\n`}HostKey ${options.hostKeyPath}
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

class PortTakenError extends Error {}

/**
 * Starts sshd and resolves once it says it listens on `port` (its own line on stderr, so a
 * server another suite runs on that port is never taken for this one); rejects when it exits
 * first, with PortTakenError when the port was taken.
 */
async function startSshd(configPath: string, port: number, sshdLog: string[]): Promise<ChildProcess> {
  const child = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const listening = `Server listening on 127.0.0.1 port ${port}.`;
  const firstLine = sshdLog.length;
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sshd on port ${port} did not say it listens within 60 s: ${sshdLog.slice(-5).join(' | ')}`));
    }, 60_000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      sshdLog.push(...text.split('\n').filter(Boolean));
      if (sshdLog.slice(firstLine).some((line) => line.includes(listening))) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const said = sshdLog.slice(firstLine);
      const message = `sshd exited during start-up (${code}): ${said.slice(-5).join(' | ')}`;
      reject(said.some((line) => /Address already in use/.test(line)) ? new PortTakenError(message) : new Error(message));
    });
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
