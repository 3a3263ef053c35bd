/**
 * The result masker of a FETCH. Its rows are the cursor's, which the FETCH's own text does not
 * describe: they are masked by what the session remembers of the cursor's DECLARE (its outputs,
 * and its obligations on top of the FETCH's own), or strictly when the PEP never saw that cursor
 * declared. Plain columns are masked through the catalog either way: FETCH's RowDescription
 * carries their table OIDs.
 *
 * The cursor is looked up when the first answer to the FETCH arrives, not when it is decided: by
 * then the server has answered everything sent before it, so a CLOSE or DECLARE pipelined ahead
 * of the FETCH is already accounted for. If what the session knows of the name changes while the
 * FETCH is still answering (a FETCH portal described, then executed after a new DECLARE), the rows
 * that follow are masked blind: no column placed, every cell NULL under any obligation.
 */
import type { CursorMemory, DeclaredCursor } from './cursor-memory.ts';
import type { CopyOutAwareResultMasker } from './result-masker.ts';

export type CursorRowsMaskerFactory = (declared: DeclaredCursor | undefined) => CopyOutAwareResultMasker;

export class CursorFetchMasker implements CopyOutAwareResultMasker {
  private masker: CopyOutAwareResultMasker | undefined;
  private resolved: DeclaredCursor | undefined;
  /** The cursor changed under this FETCH: no RowDescription is trusted to place its rows any more. */
  private blind = false;
  private maskedByEarlier = 0;

  constructor(
    private readonly cursorName: string,
    private readonly cursors: CursorMemory,
    private readonly createMasker: CursorRowsMaskerFactory,
  ) {}

  get maskedCells(): number {
    return this.maskedByEarlier + (this.masker?.maskedCells ?? 0);
  }

  onRowDescription(body: Buffer): Buffer | Promise<Buffer> {
    const masker = this.current();
    // A masker that never planned from a RowDescription masks every cell of its rows.
    return this.blind ? body : masker.onRowDescription(body);
  }

  onDataRow(body: Buffer): Buffer {
    return this.current().onDataRow(body);
  }

  onCopyOutResponse(body: Buffer): Buffer | Promise<Buffer> {
    return this.current().onCopyOutResponse(body);
  }

  onCopyData(body: Buffer): Buffer {
    return this.current().onCopyData(body);
  }

  onErrorOrNotice(body: Buffer, type: 'E' | 'N'): Buffer {
    return this.current().onErrorOrNotice(body, type);
  }

  private current(): CopyOutAwareResultMasker {
    const declared = this.cursors.lookup(this.cursorName);
    if (this.masker === undefined) {
      this.resolved = declared;
      this.masker = this.createMasker(declared);
    } else if (!this.blind && declared !== this.resolved) {
      this.blind = true;
      this.maskedByEarlier += this.masker.maskedCells;
      this.masker = this.createMasker(undefined);
    }
    return this.masker;
  }
}
