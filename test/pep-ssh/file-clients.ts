// OpenSSH's file clients (sftp, scp, scp -O) run through the SSH PEP of a test stack.
import { execFile } from 'node:child_process';
import type { SshPepStack } from './pep-stack.ts';

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(program: string, args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(program, [...args], { env, encoding: 'buffer', maxBuffer: 512 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
      resolve({ code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8') });
    });
    child.stdin!.end(input);
  });
}

/** `sftp -b -`: the batch on stdin, stopping at the first command that fails (as batch mode does). */
export function sftpBatch(stack: SshPepStack, token: string, commands: readonly string[]): Promise<ToolResult> {
  const ssh = stack.openSshArgs(token, { portFlag: '-P' });
  // Batch mode would turn password logins off; the PEP's login is the token as a password.
  return run('sftp', [...ssh.args, '-o', 'BatchMode=no', '-b', '-', ssh.destination], ssh.env, `${commands.join('\n')}\n`);
}

/** scp through the PEP: `remote:path` arguments name the PEP's host; `legacy` adds -O (the exec protocol). */
export function scp(stack: SshPepStack, token: string, args: readonly string[], options: { legacy?: boolean } = {}): Promise<ToolResult> {
  const ssh = stack.openSshArgs(token, { portFlag: '-P' });
  const host = ssh.destination;
  const expanded = args.map((arg) => (arg.startsWith('remote:') ? `${host}:${arg.slice('remote:'.length)}` : arg));
  return run('scp', [...ssh.args, ...(options.legacy ? ['-O'] : ['-s']), ...expanded], ssh.env);
}
