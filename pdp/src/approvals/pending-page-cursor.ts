// The pending queue is ordered by (expiry, id); a page cursor names the last record of a page,
// so the next page starts after it even when that record has left the queue meanwhile.

export interface PendingPosition {
  readonly expiresAtMs: number;
  readonly id: string;
}

export function encodePendingCursor(position: PendingPosition): string {
  return `${position.expiresAtMs}:${position.id}`;
}

/** Undefined for a cursor this PDP did not write. */
export function decodePendingCursor(cursor: string): PendingPosition | undefined {
  const match = /^(\d{1,16}):([0-9a-f-]{1,64})$/.exec(cursor);
  if (match === null) return undefined;
  return { expiresAtMs: Number(match[1]), id: match[2]! };
}

/** Whether `position` comes after `cursor` in queue order. */
export function isAfter(position: PendingPosition, cursor: PendingPosition): boolean {
  return position.expiresAtMs > cursor.expiresAtMs || (position.expiresAtMs === cursor.expiresAtMs && position.id > cursor.id);
}
