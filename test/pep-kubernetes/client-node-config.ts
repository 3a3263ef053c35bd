// A @kubernetes/client-node KubeConfig that talks to the Kubernetes PEP as if it were the API
// server: its server is the PEP, its CA the one that signed the PEP's certificate, its user a
// principal's token from the PDP's dev issuer.
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import type { KubePepStack } from './pep-stack.ts';

/** A KubeConfig whose one context reaches the stack's PEP with `token`. */
export function pepKubeConfig(stack: KubePepStack, token: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'pep', server: stack.pep.url, caFile: stack.pepCaFile, skipTLSVerify: false }],
    users: [{ name: 'principal', token }],
    contexts: [{ name: 'pep', cluster: 'pep', user: 'principal' }],
    currentContext: 'pep',
  });
  return config;
}

/** A Kubernetes `Status` as a client reads it from an error answer. */
export interface ClientStatus {
  readonly kind: string;
  readonly status: string;
  readonly code: number;
  readonly reason: string;
  readonly message: string;
}

/**
 * What a client-node call failed with: the ApiException's HTTP code and the Status in its body
 * (client-node keeps an unexpected answer's body as text). Anything else is a test failure.
 */
export async function apiFailure(call: Promise<unknown>): Promise<{ readonly code: number; readonly status: ClientStatus }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body: unknown = error.body;
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as ClientStatus;
    return { code: error.code, status };
  }
  throw new Error('the call succeeded; a refusal was expected');
}
