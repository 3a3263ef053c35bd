import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEV_CONSOLE_AUDIENCE, DevIssuer, devIssuerDirectory } from '../../identity/dev-issuer.ts';
import { PRIVATE_KEY_FILE } from '../../keys/signing-key-store.ts';

export interface CredentialChoice {
  readonly tokenFile?: string | undefined;
  /** Dev mode: mint a token for this subject with role approver. */
  readonly as?: string | undefined;
  /** PORTCULLIS_TOKEN, when neither flag is given. */
  readonly envToken?: string | undefined;
  /** The Portcullis state folder whose dev issuer `as` mints with. */
  readonly stateDir: string;
  /** The console audience `as` mints for (PORTCULLIS_CONSOLE_AUDIENCE): votes and the socket require it. */
  readonly consoleAudience?: string | undefined;
}

export interface ApproverCredential {
  /** Where the token comes from, for messages (never the token). */
  readonly source: string;
  /** A token for the next connection: the file is re-read and dev tokens are minted fresh each time. */
  token(): Promise<string>;
}

/** The choice of credential was wrong: a usage error, not a failure. */
export class CredentialChoiceError extends Error {}

const DEV_TOKEN_TTL_SECONDS = 15 * 60;

/** The approver's bearer token: `--token-file`, `--as` (dev issuer only), or PORTCULLIS_TOKEN. */
export function approverCredential(choice: CredentialChoice): ApproverCredential {
  if (choice.tokenFile !== undefined && choice.as !== undefined) throw new CredentialChoiceError('give either --token-file or --as, not both');
  if (choice.tokenFile !== undefined) {
    const file = choice.tokenFile;
    return {
      source: `the token in ${file}`,
      async token() {
        const text = (await readFile(file, 'utf8')).trim();
        if (text === '') throw new Error(`${file} is empty`);
        return text;
      },
    };
  }
  if (choice.as !== undefined) {
    const sub = choice.as.trim();
    if (sub === '') throw new CredentialChoiceError('--as needs a subject');
    const directory = devIssuerDirectory(choice.stateDir);
    // Never create an issuer here: keys made in a folder the PDP does not read would mint tokens it refuses.
    if (!existsSync(join(directory, PRIVATE_KEY_FILE))) {
      throw new CredentialChoiceError(`--as works only with the local dev issuer, and ${choice.stateDir} has none (set PORTCULLIS_STATE_DIR to the PDP's state folder, or use --token-file / PORTCULLIS_TOKEN)`);
    }
    const issuer = new DevIssuer({ directory });
    return {
      source: `a dev token for ${sub} (role approver)`,
      token: () => issuer.issue({ sub, roles: ['approver'], kind: 'human', ttlSeconds: DEV_TOKEN_TTL_SECONDS, audience: choice.consoleAudience ?? DEV_CONSOLE_AUDIENCE }),
    };
  }
  const token = choice.envToken?.trim();
  if (token) return { source: 'PORTCULLIS_TOKEN', token: async () => token };
  throw new CredentialChoiceError('no credential: pass --token-file FILE, set PORTCULLIS_TOKEN, or (dev issuer) --as SUBJECT');
}
