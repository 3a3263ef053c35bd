import type { ByteStreamMaskV1, DecisionAnswer } from '@portcullis/pep-core';
import type { SshConnectionContext } from '../server/ssh-connection-context.ts';

/**
 * A forwarding request decided as a `network` action. Nothing can be shown to a client while a
 * global request or a channel open is pending, so an approval is not waited for here: the
 * request is refused and the approval stays for the next attempt (it is found by its binding).
 */
export async function decideForwarding(
  context: SshConnectionContext,
  direction: 'outbound' | 'inbound',
  host: string,
  port: number,
): Promise<DecisionAnswer<ByteStreamMaskV1>> {
  const answer = await context.authorizer.authorize(
    { type: 'network', protocol: 'ssh', direction, transport: 'tcp', host, port },
    { subjectToken: context.subjectToken, session: context.session, signal: context.closed, notify: (message) => context.log(message, { session: context.session.id }) },
    { approvalWaitMs: 0 },
  );
  // A tunnel's bytes are another protocol's: no detector can be applied to them, so an allow with masks is no allow.
  if (answer.effect === 'allow' && answer.obligations.mask.length > 0) {
    return {
      ...answer,
      effect: 'deny',
      reasons: [{ code: 'masking-unavailable', message: 'policy asks for output masking, which a forwarded connection cannot have' }],
    };
  }
  return answer;
}
