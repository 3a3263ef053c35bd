// The exec request as the command gate sees it: the command text exactly as the client sent it
// is the action the PDP decides, and exactly what goes to the host (see exec-runner.ts).
import {
  byteStreamMasksSupported,
  clientSafeText,
  type ByteStreamMaskV1,
  type CommandDescription,
  type GateRefusal,
  type PepAction,
  type ProtocolAdapter,
} from '@portcullis/pep-core';
import { EXIT_DENIED, EXIT_RETRY_LATER, exitStatusFor } from './exit-statuses.ts';

export interface ExecCommand {
  readonly text: string;
}

/** What the client sees of a refused exec: lines on stderr, then this exit status. */
export interface ExecRefusal {
  readonly exitStatus: number;
  readonly lines: readonly string[];
}

export class ExecAdapter implements ProtocolAdapter<ExecCommand, ExecRefusal, ByteStreamMaskV1> {
  action(command: ExecCommand): PepAction {
    return { type: 'shell', command: command.text };
  }

  describe(command: ExecCommand): CommandDescription {
    return { text: command.text, kind: 'exec' };
  }

  canMask(masks: readonly ByteStreamMaskV1[]): boolean {
    return byteStreamMasksSupported(masks);
  }

  refuse(refusal: GateRefusal<ByteStreamMaskV1>): ExecRefusal {
    switch (refusal.reason) {
      case 'decision': {
        const { kind, message, hint } = refusal.refusal;
        return { exitStatus: exitStatusFor(kind), lines: hint ? [message, `portcullis: ${hint}`] : [message] };
      }
      case 'record-unavailable':
        return { exitStatus: EXIT_RETRY_LATER, lines: ['portcullis: the session record cannot keep up, so nothing was run; try again shortly'] };
      case 'token-expired':
        return { exitStatus: EXIT_DENIED, lines: [clientSafeText(`portcullis: the token expired, so nothing was run [decision ${refusal.answer.decision_id}]`)] };
      case 'masking-unavailable':
        return {
          exitStatus: EXIT_DENIED,
          lines: [clientSafeText(`portcullis: policy asks for output masking this PEP cannot apply, so nothing was run [decision ${refusal.answer.decision_id}]`)],
        };
    }
  }
}
