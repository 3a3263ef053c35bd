import type { PepAction } from './action-authorizer.ts';
import type { MaskObligationV1, MaskTargetV1 } from './decision-contract.ts';
import type { GateRefusal } from './gate-refusal.ts';

/** How a command appears in the session record: its text, and what the protocol can say of it. */
export interface CommandDescription {
  /** SQL text, a command line, `DELETE /api/v1/namespaces/x/pods/y`, a tool name with its arguments. */
  readonly text: string;
  readonly kind?: string;
  readonly method?: string;
  readonly path?: string;
}

/**
 * What one PEP knows of its wire protocol, and all the command gate needs from it. A PEP reads
 * commands off its wire, hands each to the gate, and writes what the gate says back in its own
 * terms; the gate decides, waits for approval, checks the decision can be enforced, and records.
 *
 * `Command` is the PEP's own unit of decision (a SQL text, an exec request, an HTTP request, a
 * JSON-RPC call); `Refused` is what its client is shown for a refusal (a Postgres ErrorResponse,
 * an exit status and stderr line, a Kubernetes `Status`, a JSON-RPC error); `Mask` the kinds of
 * mask obligation it enforces (SQL columns, JSON paths, byte streams), as its decision client
 * reads them: an answer with any other kind never reaches it.
 */
export interface ProtocolAdapter<Command, Refused, Mask extends MaskTargetV1 = MaskObligationV1> {
  /** The action the PDP decides: exactly what will reach the resource, nothing normalised away. */
  action(command: Command): PepAction;

  /** The command as its session record names it. */
  describe(command: Command): CommandDescription;

  /**
   * The key under which an allow the PDP granted reuse for may stand for later commands (for SQL,
   * the text with its literals blanked). Undefined, or no method: every command is decided.
   */
  reuseShape?(command: Command): string | undefined;

  /**
   * Whether this PEP can honour these mask obligations on the command's output. When it cannot,
   * the command is refused: nothing runs unmasked (fail closed).
   */
  canMask(masks: readonly Mask[], command: Command): boolean;

  /** The protocol's own refusal for why the gate would not let the command run. */
  refuse(refusal: GateRefusal<Mask>, command: Command): Refused;
}
