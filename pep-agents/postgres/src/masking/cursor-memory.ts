/**
 * What one session's PEP knows about the SQL cursors open on the server: for each cursor name,
 * the outputs (provenance) and mask obligations of the DECLARE that opened it, so the rows a FETCH
 * returns later are masked as that DECLARE's decision says.
 *
 * The rule is one-sided on purpose. Forgetting a cursor only makes its FETCH mask strictly, so
 * the PEP forgets whenever it is unsure; it remembers only a DECLARE the server confirmed
 * (its CommandComplete), decided as the one statement of its text. A stale entry could only hurt
 * if another portal took the same name without a DECLARE the PEP sees: a named Bind (the protocol's
 * portals share SQL cursors' names, and FETCH reads both) forgets that name, and also voids any
 * DECLARE still on its way, whose completion might come after the server had replaced it.
 * (A function that closes and reopens a cursor inside the server is as trusted as any function
 * policy lets run: the PEP cannot see into it.)
 */
import type { MaskObligationV1 } from '@portcullis/pep-core';
import type { CursorFacts } from './cursor-facts.ts';
import type { StatementResultFacts } from './statement-result-facts.ts';

/** Beyond this many open cursors the oldest is forgotten (its FETCH then masks strictly). */
const MAX_REMEMBERED_CURSORS = 1024;

/** What the rows of a cursor are masked by, from the decision on its DECLARE. */
export interface DeclaredCursor {
  /** The DECLARE's outputs; undefined when the answer did not describe them (strict masking). */
  readonly facts: StatementResultFacts | undefined;
  readonly obligations: readonly MaskObligationV1[];
  /** WITH HOLD: kept past the end of the transaction. */
  readonly hold: boolean;
}

export class CursorMemory {
  private readonly cursors = new Map<string, DeclaredCursor>();
  private namedPortalBinds = 0;

  /** What the PEP remembers of the cursor `name`; undefined: masked strictly. */
  lookup(name: string): DeclaredCursor | undefined {
    return this.cursors.get(name);
  }

  get size(): number {
    return this.cursors.size;
  }

  /**
   * For a statement just decided (and about to be sent): what its CommandComplete tags do to the
   * cursors. `cursor` is the statement's cursor when the decision was on that one statement;
   * `declared` what a DECLARE's rows are masked by.
   */
  completionOf(cursor: CursorFacts | undefined, declared: DeclaredCursor | undefined): (tag: string) => void {
    const bindsBefore = this.namedPortalBinds;
    const name = cursor?.name ?? null;
    return (tag) => {
      if (tag === 'DECLARE CURSOR') {
        // A DECLARE the PEP cannot tie to its facts (one of several statements, no enrichment)
        // may have opened any name.
        if (cursor?.operation !== 'declare' || name === null) this.forgetAll();
        else if (declared === undefined || this.namedPortalBinds !== bindsBefore) this.cursors.delete(name);
        else this.remember(name, declared);
      } else if (tag === 'CLOSE CURSOR') {
        if (cursor?.operation !== 'close' || name === null) this.forgetAll();
        else this.cursors.delete(name);
      } else if (tag === 'CLOSE CURSOR ALL' || tag === 'DISCARD ALL') {
        this.forgetAll();
      }
    };
  }

  /** The client binds a portal by this name: FETCH could read it, and it is none of the DECLAREs. */
  portalBound(name: string): void {
    if (name === '') return; // the unnamed portal: SQL cannot name it
    this.namedPortalBinds += 1;
    this.cursors.delete(name);
  }

  /** No transaction is open any more: only WITH HOLD cursors are left on the server. */
  transactionEnded(): void {
    for (const [name, cursor] of this.cursors) if (!cursor.hold) this.cursors.delete(name);
  }

  private remember(name: string, declared: DeclaredCursor): void {
    this.cursors.delete(name);
    this.cursors.set(name, declared);
    if (this.cursors.size > MAX_REMEMBERED_CURSORS) this.cursors.delete(this.cursors.keys().next().value as string);
  }

  private forgetAll(): void {
    this.cursors.clear();
  }
}
