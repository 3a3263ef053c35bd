// The client logs in with its OIDC token as the password, by `password` or `keyboard-interactive`
// (a client that cannot send a password non-interactively can answer the prompt). Public keys are
// not accepted: a key names no principal the PDP can verify. The token is the credential the PDP
// checks; the PEP only carries it and never logs it.
import type { AuthContext } from 'ssh2';

export const LOGIN_METHODS = ['password', 'keyboard-interactive'] as const;

/** The token the client offered, or undefined for a method that carries none (it is then rejected with the methods that do). */
export function tokenOf(ctx: AuthContext): Promise<string> | undefined {
  if (ctx.method === 'password') return Promise.resolve(ctx.password);
  if (ctx.method === 'keyboard-interactive') {
    return new Promise((resolve) =>
      ctx.prompt([{ prompt: 'Portcullis token: ', echo: false }], 'Portcullis', 'Log in with your OIDC token.', (answers) => resolve(answers[0] ?? '')),
    );
  }
  return undefined;
}
