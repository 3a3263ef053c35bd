import { parseArgs } from './command-args.ts';
import { DEV_AUDIENCE, DEV_CONSOLE_AUDIENCE, DevIssuer, devIssuerDirectory } from '../identity/dev-issuer.ts';
import { resourcePatternProblem } from '../identity/resource-binding.ts';
import { parseTtlSeconds } from '../identity/ttl.ts';

export const TOKEN_USAGE = 'usage: portcullis token --sub SUBJECT [--role ROLE]... [--kind agent|human] [--ttl 15m] [--resource NAME]... [--console | --aud AUDIENCE]';

/** The audiences the PDP requires (PORTCULLIS_OIDC_AUDIENCE, PORTCULLIS_CONSOLE_AUDIENCE). */
export interface TokenAudiences {
  readonly api: string;
  readonly console: string;
}

export interface CommandOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * `portcullis token`: mints a token from the local dev issuer and prints only the JWT, so it can
 * be captured with `$(…)`. A PEP credential is a token with role `pep` bound to the resources it
 * fronts (`--resource`, repeatable, names or globs); `--console` mints a console session
 * (approvers, auditors), which the PDP never accepts as an agent's or a PEP's token.
 * Exit codes: 0 printed, 1 could not issue, 2 bad arguments.
 */
export async function runTokenCommand(
  argv: string[],
  stateDir: string,
  output: CommandOutput = { stdout: process.stdout, stderr: process.stderr },
  audiences: TokenAudiences = { api: DEV_AUDIENCE, console: DEV_CONSOLE_AUDIENCE },
): Promise<number> {
  const usageError = (problem: string): number => {
    output.stderr.write(`portcullis token: ${problem}\n${TOKEN_USAGE}\n`);
    return 2;
  };

  let values: { sub?: string; role?: string[]; kind?: string; ttl?: string; aud?: string; resource?: string[]; console?: boolean; help?: boolean };
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
        resource: { type: 'string', multiple: true },
        console: { type: 'boolean' },
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
  if (values.aud !== undefined && values.console) return usageError('give --console or --aud, not both');
  const resources = values.resource;
  const badResource = resources?.map(resourcePatternProblem).find((problem) => problem !== undefined);
  if (badResource !== undefined) return usageError(`--resource: ${badResource}`);
  // A PEP token without a binding is refused by the PDP: say so now rather than at its first use.
  if (roles.includes('pep') && resources === undefined) return usageError('a PEP token must name the resources it fronts: --resource NAME (repeatable; globs such as staging-* allowed)');
  if (resources !== undefined && values.console) return usageError('--resource binds a PEP token; a console token fronts nothing');
  const audience = values.aud ?? (values.console ? audiences.console : audiences.api);
  let ttlSeconds: number;
  try {
    ttlSeconds = parseTtlSeconds(values.ttl ?? '15m');
  } catch (error) {
    return usageError(`--ttl: ${error instanceof Error ? error.message : String(error)}`);
  }

  try {
    const issuer = new DevIssuer({ directory: devIssuerDirectory(stateDir) });
    const token = await issuer.issue({ sub, roles, kind, ttlSeconds, audience, ...(resources === undefined ? {} : { resources }) });
    output.stdout.write(`${token}\n`);
    return 0;
  } catch (error) {
    output.stderr.write(`portcullis token: could not issue a token: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
