import type { CommandDescription, GateRefusal, PepAction, ProtocolAdapter } from '@portcullis/pep-core';
import { clientSafeText } from '@portcullis/pep-core';
import type { KubeMask } from '../pipeline/kube-masks.ts';
import type { ResponseRelay } from '../pipeline/response-relay.ts';
import { requestTarget } from '../request/kube-request.ts';
import { kubeStatus, type KubeStatus, type StatusCode } from '../status/kube-status.ts';
import type { KubeCommand } from './kube-command.ts';

/**
 * The Kubernetes side of the command gate: a request becomes a `kubernetes` action of exactly the
 * method, path, query and body forwarded; a refusal becomes a `Status` that kubectl prints.
 */
export class KubeProtocolAdapter implements ProtocolAdapter<KubeCommand, KubeStatus, KubeMask> {
  constructor(private readonly relay: Pick<ResponseRelay, 'canMask'>) {}

  action(command: KubeCommand): PepAction {
    const { request } = command;
    return {
      type: 'kubernetes',
      method: request.method,
      path: request.path,
      query: request.rawQuery,
      ...(command.body === undefined ? {} : { body: command.body }),
      ...(command.object === undefined ? {} : { object: command.object }),
    };
  }

  describe(command: KubeCommand): CommandDescription {
    return { text: `${command.request.method} ${requestTarget(command.request)}`, method: command.request.method, path: command.request.path };
  }

  /**
   * A bodiless GET or HEAD is keyed on its exact method and target: an allow the PDP granted reuse
   * for stands only for the very same request again. Everything else is decided every time.
   */
  reuseShape(command: KubeCommand): string | undefined {
    const { request } = command;
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    if (request.body.length > 0 || command.body !== undefined || command.object !== undefined) return undefined;
    return `${request.method} ${requestTarget(request)}`;
  }

  canMask(masks: readonly KubeMask[], command: KubeCommand): boolean {
    return this.relay.canMask(masks, command.request);
  }

  refuse(refusal: GateRefusal<KubeMask>): KubeStatus {
    switch (refusal.reason) {
      case 'record-unavailable':
        return kubeStatus(503, 'portcullis: the session record is not keeping up, so nothing is forwarded; try again shortly');
      case 'token-expired':
        return kubeStatus(401, `portcullis: the token has expired [decision ${refusal.answer.decision_id}]`);
      case 'masking-unavailable':
        return kubeStatus(403, `portcullis: policy allows this only with masking this enforcement agent cannot apply to it [decision ${refusal.answer.decision_id}]`);
      case 'decision': {
        const { refusal: why, answer } = refusal;
        const code: StatusCode = why.kind === 'unauthenticated' ? 401 : why.kind === 'unavailable' ? 503 : 403;
        if (why.kind !== 'approval-pending') return kubeStatus(code, why.message);
        // kubectl shows the message as it is: say which approval, where to approve, and what to do then.
        const consoleUrl = answer.approval?.console_url;
        const parts = [why.message, consoleUrl ? `approve at ${consoleUrl}` : undefined, why.hint ?? 'run the command again once approved'];
        return kubeStatus(403, clientSafeText(parts.filter(Boolean).join('; ')));
      }
    }
  }
}
