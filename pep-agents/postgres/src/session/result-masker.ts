import type { EnrichmentV1, MaskObligationV1 } from '@portcullis/pep-core';

/** What the masker knows about the statement whose results it rewrites. */
export interface MaskedStatementFacts {
  /** The SQL text the decision was made on (the whole string of a simple Query). */
  readonly sql: string;
  readonly decisionId: string;
  readonly protocol: 'simple' | 'extended';
  /** Bind's result format codes: none (all text), one for all columns, or one per column. */
  readonly resultFormats: readonly number[];
}

export interface ResultMaskingContext {
  readonly obligations: readonly MaskObligationV1[];
  /** The decision says the principal reads personal data in clear (`obligations.unmasked`). */
  readonly unmasked?: boolean;
  /** The obligations name every sensitive column there is (`obligations.mask_complete`): views may be traced. */
  readonly maskComplete?: boolean;
  /** The answer's SQL facts (result columns and their sources, COPY format), when the PDP sent them. */
  readonly enrichment?: EnrichmentV1;
  readonly statement: MaskedStatementFacts;
}

/**
 * Rewrites the server's answers to one statement (simple Query) or one portal (extended
 * protocol) under the decision's mask obligations. Each method takes one whole backend message
 * (type byte, length, body) and returns the message to send instead; it may return a promise
 * (a catalog look-up), and the relay then waits before it sends anything else.
 */
export interface ResultMasker {
  onRowDescription(message: Buffer): Buffer | Promise<Buffer>;
  onDataRow(message: Buffer): Buffer | Promise<Buffer>;
  /** COPY … TO STDOUT: the column count and formats, before the rows (optional). */
  onCopyOutResponse?(message: Buffer): Buffer | Promise<Buffer>;
  /** COPY … TO STDOUT rows. */
  onCopyData(message: Buffer): Buffer | Promise<Buffer>;
  /** ErrorResponse and NoticeResponse, whose texts can echo values. */
  onErrorOrNotice(message: Buffer): Buffer | Promise<Buffer>;
  /** CommandComplete's tag, for each statement that ran (optional): DECLARE and CLOSE change what FETCH returns. */
  onCommandComplete?(tag: string): void;
  /** Cells replaced so far by this masker. */
  readonly maskedCells: number;
}

/**
 * Server messages no statement owns: a notification (from any session), a ParameterStatus
 * after start-up, a notice or error between statements or answering Parse, Bind or Sync. Each
 * method takes and returns one whole message.
 */
export interface SessionMessageFilter {
  /** A decision of this session (connect or statement) said whether its principal reads in clear. */
  decisionMade(unmasked: boolean): void;
  onErrorOrNotice(message: Buffer): Buffer;
  onNotification(message: Buffer): Buffer;
  /** Undefined: the message is withheld. */
  onParameterStatus(message: Buffer): Buffer | undefined;
}

export interface ResultMaskerFactory {
  /** For the messages of the session no statement owns (optional: else they pass as they are). */
  readonly sessionMessages?: SessionMessageFilter;
  /** Whether these obligations can be honoured at all; if not, the statement is refused. */
  supports(obligations: readonly MaskObligationV1[]): boolean;
  create(context: ResultMaskingContext): ResultMasker;
  /** The client binds a portal by this name (optional): SQL FETCH reads protocol portals too. */
  portalBound?(name: string): void;
  /** ReadyForQuery reports no open transaction (optional): cursors not WITH HOLD are gone. */
  transactionEnded?(): void;
}

const passThrough: ResultMasker = {
  onRowDescription: (message) => message,
  onDataRow: (message) => message,
  onCopyData: (message) => message,
  onErrorOrNotice: (message) => message,
  maskedCells: 0,
};

/**
 * Until result masking is wired in: statements without mask obligations pass unchanged, and a
 * statement that carries any is refused rather than run unmasked (fail closed).
 */
export class NoMaskingFactory implements ResultMaskerFactory {
  supports(obligations: readonly MaskObligationV1[]): boolean {
    return obligations.length === 0;
  }

  create(): ResultMasker {
    return passThrough;
  }
}

/** For answers no statement owns (a notice between statements): nothing to mask by obligation. */
export const PASS_THROUGH_MASKER: ResultMasker = passThrough;

/** For a session without masking: every message as the server sent it. */
export const PASS_THROUGH_SESSION_MESSAGES: SessionMessageFilter = {
  decisionMade: () => undefined,
  onErrorOrNotice: (message) => message,
  onNotification: (message) => message,
  onParameterStatus: (message) => message,
};
