// sshd runs an exec request as `<login shell> -c <text>`: the login shell parses what the PDP
// judged. The PDP's parser models bash, so before serving, the PEP checks that the account's
// shell upstream is bash by asking it: the probe below prints bash's version only when bash runs
// it (dash, zsh, ksh leave BASH_VERSION unset; csh and fish fail on the syntax). A host whose
// shell is another refuses the start: the PEP would judge one language while the host ran another.
import type { Client } from 'ssh2';
import { isParserSafeLocale } from '../channels/env-allow-list.ts';
import type { ModelledShell } from '../config/pep-ssh-config.ts';

// The locale bash reads commands in is the first of LC_ALL, LC_CTYPE and LANG it was given.
const PROBE = `printf 'portcullis-shell:%s:%s\\n' "\${BASH_VERSION-}" "\${LC_ALL:-\${LC_CTYPE:-\${LANG-}}}"`;
const PROBE_ANSWER = /^portcullis-shell:([^:\s]*):(\S*)\n$/;

export class UpstreamShellMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamShellMismatchError';
  }
}

/** Resolves to the upstream shell's version, or rejects when it is not the shell the PDP models. */
export async function checkUpstreamShell(client: Client, shell: ModelledShell, timeoutMs: number): Promise<string> {
  const output = await execCollect(client, PROBE, timeoutMs);
  const answer = PROBE_ANSWER.exec(output);
  const version = answer?.[1];
  if (!version) {
    throw new UpstreamShellMismatchError(
      `the upstream account's shell is not ${shell} (the probe answered ${JSON.stringify(output.slice(0, 200))}): the PDP judges commands as ${shell} parses them, so the PEP will not run them in another shell`,
    );
  }
  const locale = answer![2]!;
  if (!isParserSafeLocale(locale)) {
    throw new UpstreamShellMismatchError(
      `the upstream shell reads commands in the locale ${JSON.stringify(locale)}: only C, POSIX or a UTF-8 locale has it read bytes as the PDP's parser does (a set such as BIG5 or GBK can hide a ; or a quote inside a character)`,
    );
  }
  return version;
}

function execCollect(client: Client, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new UpstreamShellMismatchError(`the upstream shell probe got no answer within ${timeoutMs} ms`)), timeoutMs);
    client.exec(command, (error, channel) => {
      if (error) {
        clearTimeout(timer);
        reject(error);
        return;
      }
      const chunks: Buffer[] = [];
      channel.on('data', (chunk: Buffer) => chunks.push(chunk));
      channel.stderr.resume();
      channel.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
    });
  });
}
