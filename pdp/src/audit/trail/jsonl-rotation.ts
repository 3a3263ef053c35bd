import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded sink's files of one stream: the active `<stream>.jsonl`, and the rotated ones,
 * `<stream>.<rotation time, ms, 15 digits>.jsonl`, so their names sort in the order written.
 * A rotated file expires once its newest record (its last append, the file's mtime) is older than
 * the stream's retention (AU-11); the active file never does.
 */
const ROTATED = /^(.+)\.(\d{15})\.jsonl$/;

export function activeFile(directory: string, stream: string): string {
  return join(directory, `${stream}.jsonl`);
}

/** Rotated files of a stream, oldest first. */
export function rotatedFiles(directory: string, stream: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => ROTATED.exec(name)?.[1] === stream)
    .sort()
    .map((name) => join(directory, name));
}

/** Every file of a stream, oldest first, the active one last. */
export function streamFiles(directory: string, stream: string): string[] {
  const active = activeFile(directory, stream);
  return [...rotatedFiles(directory, stream), ...(existsSync(active) ? [active] : [])];
}

/** Renames the active file aside (durably: the folder is fsync'd); the next append starts a new one. */
export function rotateActive(directory: string, stream: string, now: number): string {
  let at = now;
  let target = join(directory, `${stream}.${String(at).padStart(15, '0')}.jsonl`);
  while (existsSync(target)) target = join(directory, `${stream}.${String(++at).padStart(15, '0')}.jsonl`);
  renameSync(activeFile(directory, stream), target);
  const folder = openSync(directory, 'r');
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
  return target;
}

/** Deletes the rotated files whose newest record is older than `retentionMs`; returns them. */
export function expireRotated(directory: string, stream: string, retentionMs: number | null, now: number): string[] {
  if (retentionMs === null) return [];
  const expired = rotatedFiles(directory, stream).filter((file) => now - statSync(file).mtimeMs > retentionMs);
  for (const file of expired) unlinkSync(file);
  return expired;
}
