import { parseArgs } from 'node:util';
import { DevIssuer, devIssuerDirectory } from '../identity/dev-issuer.ts';
import { parseTtlSeconds } from '../identity/ttl.ts';

export const TOKEN_USAGE = 'usage: portcullis token --sub SUBJECT [--role ROLE]... [--kind agent|human] [--ttl 15m] [--aud AUDIENCE]';

export interface CommandOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * `portcullis token`: mints a token from the local dev issuer and prints only the JWT, so it can
 * be captured with `$(…)`. A PEP credential is a token with role `pep`.
 * Exit codes: 0 printed, 1 could not issue, 2 bad arguments.
 */
export async function runTokenCommand(
  argv: string[],
  stateDir: string,
  output: CommandOutput = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const usageError = (problem: string): number => {
    output.stderr.write(`portcullis token: ${problem}\n${TOKEN_USAGE}\n`);
    return 2;
  };

  let values: { sub?: string; role?: string[]; kind?: string; ttl?: string; aud?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        sub: { type: 'string' },
        role: { type: 'string', multiple: true },
        kind: { type: 'string', default: 'agent' },
        ttl: { type: 'string', default: '15m' },
        aud: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }

  if (values.help) {
    output.stdout.write(`${TOKEN_USAGE}\n`);
    return 0;
  }
  const sub = values.sub?.trim();
  if (!sub) return usageError('--sub is required');
  const kind = values.kind;
  if (kind !== 'agent' && kind !== 'human') return usageError(`--kind must be agent or human (got "${kind}")`);
  const roles = values.role ?? [];
  const badRole = roles.find((role) => !/^\S+$/.test(role));
  if (badRole !== undefined) return usageError(`--role must be a single word without spaces (got "${badRole}")`);
  if (values.aud !== undefined && values.aud.trim() === '') return usageError('--aud must not be empty');
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtlSeconds(values.ttl ?? '15m');
  } catch (error) {
    return usageError(`--ttl: ${error instanceof Error ? error.message : String(error)}`);
  }

  try {
    const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
    const token = await issuer.issue({ sub, roles, kind, ttlSeconds, ...(values.aud === undefined ? {} : { audience: values.aud }) });
    output.stdout.write(`${token}\n`);
    return 0;
  } catch (error) {
    output.stderr.write(`portcullis token: could not issue a token: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
