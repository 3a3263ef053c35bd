import type { DecisionAnswer } from '@portcullis/pep-core';
import type { McpMask } from '../calls/mcp-masks.ts';

/** The part of a decision answer masking reads. */
export type MaskingAnswer = Pick<DecisionAnswer<McpMask>, 'obligations'>;

/** Distinct maskings one session keeps: the detectors come from data, so a few are all policy gives. */
const MAX_KINDS = 32;

/**
 * The maskings a session's decisions asked for, kept for as long as the session lasts: what the
 * server sends the agent beside a call's result (log lines and progress, answers the gateway
 * relays undecided, the text of its own requests to the agent) is masked under every one of
 * them, whenever it comes. A server that holds data a principal may only see masked can send it
 * at any moment, not only while the call that fetched it runs.
 *
 * Only what masks such messages is kept: the detectors, whether JSON paths applied (their free
 * text is then withheld), and whether the principal may read personal data in clear. So SQL
 * aliases (a JSON path per column name) do not grow the list.
 */
export class StandingMasks {
  private readonly kinds = new Map<string, MaskingAnswer>();
  /** More distinct maskings than kept: everything beside a result is withheld rather than guessed at. */
  private overflowed = false;

  /** A decision of the session (its connect, each decided call). */
  add(answer: MaskingAnswer): void {
    const detectors = answer.obligations.mask.filter((mask) => mask.kind === 'byte-stream');
    const paths = answer.obligations.mask.filter((mask) => mask.kind === 'json-path');
    const unmasked = answer.obligations.unmasked === true;
    if (detectors.length === 0 && paths.length === 0 && unmasked) return;
    const key = JSON.stringify([detectors, paths.length > 0, unmasked]);
    if (this.kinds.has(key)) return;
    if (this.kinds.size >= MAX_KINDS) {
      this.overflowed = true;
      return;
    }
    this.kinds.set(key, { obligations: { ...answer.obligations, mask: [...detectors, ...paths.slice(0, 1)] } });
  }

  /** The answers to mask a server message under (none: it passes as it is). */
  get answers(): readonly MaskingAnswer[] {
    return [...this.kinds.values()];
  }

  /** Whether the session asked for more maskings than are kept: server messages beside results are then not passed on. */
  get exceeded(): boolean {
    return this.overflowed;
  }
}
